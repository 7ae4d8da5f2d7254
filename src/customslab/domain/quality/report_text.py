"""Every fixed text of the test report, by language: headings, field labels, statements and remarks.

The service writes some of these into the report data (the statements, the remarks, the seal's state),
the PDF renderer prints the others (headings, labels, page header and footer); both read them here, so a
report is in one language throughout. Case data (the goods, the reasoning, names) stays as people wrote
it. Every language has the same keys and the same {placeholders}; a unit test checks both. The English
text is exactly what reports said before they had a language, so their verification codes still hold.
"""

from __future__ import annotations

from typing import Literal

ReportLanguage = Literal["en", "ko"]
#: The languages a report can be issued in; English is the default and the one older reports are in.
REPORT_LANGUAGES: tuple[ReportLanguage, ...] = ("en", "ko")

REPORT_TEXT: dict[str, dict[str, str]] = {
    "en": {
        # Written into the report data by the service.
        "title": "Test report: {goods}",
        "only_item_tested": "The results relate only to the item tested, as received.",
        "sampled_by_customer": (
            "Sampling was performed by the customer (customs) and is outside the laboratory's responsibility."
        ),
        "decision_rule_remark": "Decision rule: {rule}",
        "rule.simple": (
            "Simple acceptance (ILAC-G8:09/2019 4.2.1): the measured value is compared with the limit; w = 0."
        ),
        "rule.guarded": (
            "Guarded acceptance (ILAC-G8:09/2019 4.2.2): the limit is narrowed by a guard band w = U, so "
            "conformity is stated only when the result lies inside the limit by more than U."
        ),
        "no_opinion": "No opinion on tariff classification is given in this report.",
        "no_remarks_on_receipt": "No remarks on receipt.",
        "seal": "{number}, {state}",
        "seal.no_number": "no seal number",
        "seal.intact": "intact on receipt",
        "seal.broken": "broken on receipt",
        "seal.unknown": "state not recorded",
        "reference": "Request {request}; declaration {declaration}, item {item}",
        "reference.item_withheld": "Request {request}; declaration {declaration} (item {withheld})",
        "reference.withheld": "Request {request}; declaration {withheld}",
        "withheld": "withheld by the sending administration",
        "declared_hs": "Declared HS {code}",
        "item.own_words": "{goods}\nItem as described by the laboratory: {own}",
        "method.not_catalogued": "not catalogued",
        "function.reviewer": "Reviewer (technical manager)",
        "function.manager": "Laboratory manager",
        "outcome.detected": "Detected",
        "outcome.not_detected": "Not detected",
        "outcome.positive": "Positive",
        "outcome.negative": "Negative",
        "level.chapter": "chapter",
        "level.heading": "heading",
        "level.subheading": "subheading",
        "level.national": "national tariff line",
        # Printed by the renderer.
        "header": "Test report {id}, version {version}",
        "footer": "Report {id} v{version}  |  Verification {code}",
        "page": "Page {number} of {total}",
        "ident": "Report no. {id}  |  Version {version}  |  Issued {issued}",
        "amended": "AMENDED REPORT. {statement}",
        "amendment": "This report supersedes report {id} version {version}. Reason: {reason}",
        "h.general": "1  Laboratory, customer and item",
        "h.methods": "2  Methods",
        "h.results": "3  Results",
        "h.conformity": "4  Statement of conformity",
        "h.opinion": "5  Opinion on tariff classification",
        "h.remarks": "Remarks",
        "h.authorisation": "6  Authorisation and verification",
        "laboratory": "Laboratory",
        "performed_at": "Tests performed at",
        "performed_here": "At the laboratory address above.",
        "customer": "Customer",
        "requested_by": "Requested by {name}",
        "customer_reference": "Customer reference: {reference}",
        "sample_id": "Sample id",
        "item_description": "Item description",
        "condition": "Condition on receipt",
        "seal_label": "Seal",
        "sampling": "Sampling",
        "received_on": "Date of receipt",
        "analysed_on": "Date(s) of analysis",
        "date_range": "{start} to {end}",
        "issued_on": "Date of issue",
        "col.method": "Method",
        "col.title": "Title",
        "col.version": "Version",
        "col.deviations": "Deviations",
        "none": "None",
        "col.parameter": "Parameter",
        "col.result": "Result",
        "col.unit": "Unit",
        "col.uncertainty": "U (k)",
        "col.limits": "LOD / LOQ",
        "n/a": "n/a",
        "uncertainty_note": (
            "U is the expanded uncertainty with coverage factor k, giving a level of confidence of "
            "about 95 %."
        ),
        "external_note": (
            "† Result from an external provider: {provider}. Not covered by this laboratory's tests."
        ),
        "evidence": (
            "Identification of {name} as {value}: {technique} spectrum searched against library {library}, "
            "version {version}. Best matches: {hits}."
        ),
        "hit": "{rank}. {name} (score {score})",
        "no_hits": "none",
        "controls": "Control status of {value}: {entries}.",
        "control.UN1961": "Single Convention on Narcotic Drugs, 1961, Schedule {schedule}",
        "control.UN1971": "Convention on Psychotropic Substances, 1971, Schedule {schedule}",
        "control.UN1988": "Convention against Illicit Traffic in Narcotic Drugs and Psychotropic Substances, "
        "1988, Table {schedule}",
        "control.national": "{list}: {schedule}",
        "col.specification": "Specification",
        "col.decision_rule": "Decision rule",
        "col.statement": "Statement",
        "opinion_note": "Opinion and interpretation under ISO/IEC 17025 7.8.7.",
        "declared_code": "Declared HS code",
        "determined_code": "Determined HS code",
        "reasoning": "Reasoning",
        "references": "References",
        "measurement_rules": "HS measurement rules",
        "approved_by": "Opinion approved by",
        "authorised_by": "Authorised by ",
        "verification_code": "Verification code {code}",
        "sha256_of_data": "sha256 of the canonical report data:",
        "scan": "Scan the QR code or quote the code to the laboratory to check this report is genuine.",
        "end": "End of report {id} version {version}",
    },
    "ko": {
        "title": "시험성적서: {goods}",
        "only_item_tested": "이 시험 결과는 접수된 상태의 시험 품목에만 해당합니다.",
        "sampled_by_customer": (
            "시료 채취는 의뢰자(세관)가 수행하였으며 시험실의 책임 범위에 속하지 않습니다."
        ),
        "decision_rule_remark": "판정 규칙: {rule}",
        "rule.simple": "단순 판정(ILAC-G8:09/2019 4.2.1): 측정값을 한계값과 그대로 비교합니다. w = 0.",
        "rule.guarded": (
            "보호대역 적용 판정(ILAC-G8:09/2019 4.2.2): 한계값을 보호대역 w = U만큼 좁혀, 결과가 한계값 "
            "안쪽으로 U보다 더 들어와 있을 때에만 적합으로 판정합니다."
        ),
        "no_opinion": "이 성적서에는 품목분류에 관한 의견을 기재하지 않습니다.",
        "no_remarks_on_receipt": "접수 시 특이사항 없음.",
        "seal": "{number}, {state}",
        "seal.no_number": "봉인번호 없음",
        "seal.intact": "접수 시 봉인 온전",
        "seal.broken": "접수 시 봉인 훼손",
        "seal.unknown": "봉인 상태 기록 없음",
        "reference": "의뢰번호 {request}; 신고번호 {declaration}, 란번호 {item}",
        "reference.item_withheld": "의뢰번호 {request}; 신고번호 {declaration} (란번호 {withheld})",
        "reference.withheld": "의뢰번호 {request}; 신고번호 {withheld}",
        "withheld": "의뢰한 관세당국이 공개하지 않음",
        "declared_hs": "신고 HS {code}",
        "item.own_words": "{goods}\n시험실이 기술한 품목: {own}",
        "method.not_catalogued": "목록에 없음",
        "function.reviewer": "검토자(기술책임자)",
        "function.manager": "시험실 책임자",
        "outcome.detected": "검출",
        "outcome.not_detected": "불검출",
        "outcome.positive": "양성",
        "outcome.negative": "음성",
        "level.chapter": "류",
        "level.heading": "호",
        "level.subheading": "소호",
        "level.national": "국가 세번",
        "header": "시험성적서 {id}, 버전 {version}",
        "footer": "성적서 {id} v{version}  |  확인 코드 {code}",
        "page": "{number} / {total}쪽",
        "ident": "성적서 번호 {id}  |  버전 {version}  |  발행일 {issued}",
        "amended": "수정 성적서. {statement}",
        "amendment": "이 성적서는 성적서 {id} 버전 {version}을 대체합니다. 사유: {reason}",
        "h.general": "1  시험실, 의뢰자 및 시험 품목",
        "h.methods": "2  시험 방법",
        "h.results": "3  시험 결과",
        "h.conformity": "4  적합성 판정",
        "h.opinion": "5  품목분류 의견",
        "h.remarks": "비고",
        "h.authorisation": "6  승인 및 진위 확인",
        "laboratory": "시험실",
        "performed_at": "시험 수행 장소",
        "performed_here": "위 시험실 주소에서 수행.",
        "customer": "의뢰자",
        "requested_by": "의뢰인 {name}",
        "customer_reference": "의뢰자 참조: {reference}",
        "sample_id": "시료 번호",
        "item_description": "품목 설명",
        "condition": "접수 시 상태",
        "seal_label": "봉인",
        "sampling": "시료 채취",
        "received_on": "접수일",
        "analysed_on": "분석 기간",
        "date_range": "{start} ~ {end}",
        "issued_on": "발행일",
        "col.method": "방법",
        "col.title": "명칭",
        "col.version": "버전",
        "col.deviations": "이탈 사항",
        "none": "없음",
        "col.parameter": "시험 항목",
        "col.result": "결과",
        "col.unit": "단위",
        "col.uncertainty": "U (k)",
        "col.limits": "LOD / LOQ",
        "n/a": "해당 없음",
        "uncertainty_note": "U는 포함인자 k를 적용한 확장불확도이며, 신뢰수준은 약 95 %입니다.",
        "external_note": "† 외부 제공자의 결과: {provider}. 이 시험실의 시험 범위에 포함되지 않습니다.",
        "evidence": (
            "{name} 동정 결과 {value}: {technique} 스펙트럼을 라이브러리 {library}(버전 {version})에서 "
            "검색함. 상위 일치: {hits}."
        ),
        "hit": "{rank}. {name} (점수 {score})",
        "no_hits": "없음",
        "controls": "{value}의 규제 현황: {entries}.",
        "control.UN1961": "1961년 마약에 관한 단일협약 부표 {schedule}",
        "control.UN1971": "1971년 향정신성물질에 관한 협약 부표 {schedule}",
        "control.UN1988": "1988년 마약 및 향정신성물질의 불법거래 방지에 관한 국제연합 협약 표 {schedule}",
        "control.national": "{list}: {schedule}",
        "col.specification": "규격",
        "col.decision_rule": "판정 규칙",
        "col.statement": "판정",
        "opinion_note": "ISO/IEC 17025 7.8.7에 따른 의견 및 해석.",
        "declared_code": "신고 HS 코드",
        "determined_code": "판정 HS 코드",
        "reasoning": "판단 근거",
        "references": "참고 자료",
        "measurement_rules": "HS 측정 규칙",
        "approved_by": "의견 승인자",
        "authorised_by": "승인자 ",
        "verification_code": "확인 코드 {code}",
        "sha256_of_data": "정규화된 성적서 데이터의 sha256:",
        "scan": "QR 코드를 스캔하거나 이 코드를 시험실에 알려 성적서의 진위를 확인하십시오.",
        "end": "성적서 {id} 버전 {version} 끝",
    },
}

#: hs.levels.level_of's words → the key of each level's word here.
LEVEL_KEYS = {
    "chapter": "level.chapter",
    "heading": "level.heading",
    "subheading": "level.subheading",
    "national tariff line": "level.national",
}


def report_text(language: str, key: str, **values: object) -> str:
    """The report's fixed text `key` in `language` (English for a language it is not written in), with
    its {placeholders} filled from `values`."""
    return REPORT_TEXT.get(language, REPORT_TEXT["en"])[key].format(**values)
