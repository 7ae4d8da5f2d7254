"""A realistic demo test report, shared by the demo data, the PDF tests and docs/report-example.png."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from customslab.domain.quality.report import (
    Amendment,
    ClassificationOpinion,
    ConformityStatement,
    Customer,
    DecisionRule,
    ItemTested,
    Laboratory,
    MethodUsed,
    ReportData,
    ResultLine,
    Signatory,
)


def example_report(version: int = 1) -> ReportData:
    """Fish oil declared as re-esterified (1504.20) that tests as natural oil; Korean signatory."""
    report = ReportData(
        title="Test report: fish oil, natural or re-esterified",
        laboratory=Laboratory(
            name="Central Customs Laboratory",
            address=(
                "Analysis Administration, 208 Government Complex-Daejeon, Cheongsa-ro 189, Daejeon, Korea"
            ),
            accreditation="KOLAS testing laboratory KT-123 (ISO/IEC 17025:2017)",
        ),
        tests_performed_at="Busan Local Customs Laboratory, 20 Chungjang-daero, Jung-gu, Busan",
        report_id="CCL-2025-004217",
        version=version,
        customer=Customer(
            office="Busan Main Customs, Import Clearance Division 2",
            requester="Officer Lee Min-jun (이민준)",
            reference="Import declaration 12345-25-0123456M, line 3",
        ),
        methods=(
            MethodUsed("CCL-M-031", "Triglyceride regioisomer profile by 13C-NMR / HPLC-ELSD", "3"),
            MethodUsed(
                "CCL-M-044",
                "Fatty acid methyl esters by GC-FID (ISO 12966-2, -4)",
                "5",
                deviations="Sample size reduced to 50 mg (limited quantity received); agreed with customer.",
            ),
        ),
        item=ItemTested(
            sample_id="S-2025-018833",
            description=(
                "Pale yellow oily liquid in a 250 mL amber glass bottle, labelled 'Omega-3 EE 70/50'."
            ),
            condition_on_receipt="Intact, no leakage; stored at 4 °C after receipt.",
            seal="Customs seal BS-0098812, intact on receipt",
            declaration_reference="Declared HS 1504.20",
        ),
        received_on=date(2025, 3, 3),
        analysis_from=date(2025, 3, 4),
        analysis_to=date(2025, 3, 7),
        issued_on=date(2025, 3, 10),
        results=(
            ResultLine("EPA (C20:5 n-3)", "18.4", "g/100 g FA", "CCL-M-044", "0.6", "2", "0.02", "0.05"),
            ResultLine("DHA (C22:6 n-3)", "12.1", "g/100 g FA", "CCL-M-044", "0.5", "2", "0.02", "0.05"),
            ResultLine("Triglycerides", "96.2", "% (m/m)", "CCL-M-031", "1.5", "2"),
            ResultLine("sn-2 position, DHA share", "61", "% of DHA", "CCL-M-031", "4", "2"),
            ResultLine("Ethyl esters", "< LOQ", "% (m/m)", "CCL-M-031", "", "", "0.1", "0.3"),
            ResultLine(
                "Stable carbon isotope ratio δ13C",
                "-24.9",
                "‰ VPDB",
                "EXT-IRMS",
                "0.3",
                "2",
                external_provider="Yokohama Customs Laboratory (RCL Japan)",
            ),
        ),
        conformity=(
            ConformityStatement(
                "Re-esterified oil: ethyl esters ≥ 1 % (m/m) (internal criterion CCL-C-07)",
                DecisionRule.GUARDED,
                "Does not conform: ethyl esters are below the LOQ of 0.3 % (m/m).",
            ),
        ),
        classification=ClassificationOpinion(
            declared_hs_code="1504.20",
            determined_hs_code="1504.20",
            reasoning=(
                "Natural triglyceride distribution (DHA concentrated at sn-2), no ethyl esters: the oil "
                "has not been chemically modified. It remains a fat of fish of heading 15.04, fraction "
                "other than liver oil (1504.20), not a chemically modified oil of heading 15.18."
            ),
            references=(
                "HS Explanatory Notes to headings 15.04 and 15.18",
                "WCO Classification Opinion 1504.20/1",
            ),
        ),
        authorised_by=(
            Signatory(
                "Dr. Kim Ji-won (김지원)", "Technical manager, Organic Analysis Section", date(2025, 3, 10)
            ),
        ),
        remarks=("Residual sample retained for 6 months under seal BS-0098812-R.",),
    )
    if version > 1:
        report = replace(
            report,
            amendment=Amendment(
                report.report_id,
                version - 1,
                "Declared HS code corrected from 1504.10 to 1504.20 at the customs office's request.",
            ),
            issued_on=date(2025, 3, 14),
        )
    return report
