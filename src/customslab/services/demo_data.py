"""The demo network: who is in it and what kinds of goods customs laboratories are asked about."""

from __future__ import annotations

from customslab.domain.enums import OrgKind
from customslab.domain.model import Administration, ContactPoint, Organisation

DEMO_PASSWORD = "customs-lab-demo"

ADMINISTRATIONS = [
    Administration("KCS", "Korea Customs Service", "KR", home=True),
    Administration("JPC", "Japan Customs", "JP"),
    Administration("INC", "Central Board of Indirect Taxes and Customs, India", "IN"),
    Administration("BTC", "Department of Revenue and Customs, Bhutan", "BT", has_laboratories=False),
]
_ADMIN_OF = {"KR": "KCS", "JP": "JPC", "IN": "INC", "BT": "BTC"}

ORGS = [
    Organisation(
        "KCS-CCL",
        "Central Customs Laboratory (Korea Customs Service)",
        OrgKind.CENTRAL,
        "KR",
        "189 Cheongsa-ro, Seo-gu, Daejeon 35208, Republic of Korea",
        contact_points=[
            ContactPoint(
                "Kim Min-jun", "Head of coordination section", "ccl@customs.example", "+82 42 000 0000"
            )
        ],
    ),
    Organisation("KCS-SEL", "Seoul Customs Laboratory", OrgKind.LOCAL, "KR", "Seoul", "KCS-CCL"),
    Organisation("KCS-BSN", "Busan Customs Laboratory", OrgKind.LOCAL, "KR", "Busan", "KCS-CCL"),
    Organisation("KCS-ICN", "Incheon Customs Laboratory", OrgKind.LOCAL, "KR", "Incheon", "KCS-CCL"),
    Organisation("KCS-DGU", "Daegu Customs Laboratory", OrgKind.LOCAL, "KR", "Daegu", "KCS-CCL"),
    Organisation("KCS-GWJ", "Gwangju Customs Laboratory", OrgKind.LOCAL, "KR", "Gwangju", "KCS-CCL"),
    Organisation(
        "RCL-JP",
        "Central Customs Laboratory, Japan (WCO RCL)",
        OrgKind.CENTRAL,
        "JP",
        "6-3-5 Kashiwanoha, Kashiwa, Chiba, Japan",
        contact_points=[
            ContactPoint("Sato Yui", "RCL contact point", "rcl-jp@customs.example", "+81 4 0000 0000")
        ],
    ),
    Organisation(
        "RCL-IN",
        "Central Revenues Control Laboratory, India (WCO RCL)",
        OrgKind.RCL,
        "IN",
        "Pusa, New Delhi, India",
        contact_points=[ContactPoint("Priya Sharma", "RCL contact point", "rcl-in@customs.example", "")],
    ),
    Organisation(
        "BT-DRC", "Department of Revenue and Customs, Bhutan", OrgKind.MEMBER, "BT", "Thimphu, Bhutan"
    ),
    Organisation(
        "KCS-ICN-AIR",
        "Incheon Airport Customs",
        OrgKind.CUSTOMS_OFFICE,
        "KR",
        "Incheon International Airport",
    ),
    Organisation("KCS-BSN-PORT", "Busan Main Customs (port)", OrgKind.CUSTOMS_OFFICE, "KR", "Busan New Port"),
]
#: The WCO Regional Customs Laboratories of the demo: Japan's and Korea's central laboratories, India's.
RCLS = {"RCL-JP", "RCL-IN", "KCS-CCL"}
for _org in ORGS:
    _org.administration_code = _ADMIN_OF[_org.country]
    if _org.code in RCLS:
        _org.rcl_region = "Asia/Pacific"

#: username, organisation, roles, full name
DEMO_USERS: list[tuple[str, str, list[str], str]] = [
    ("officer", "KCS-ICN-AIR", ["requester"], "Lee Ji-woo"),
    ("officer2", "KCS-BSN-PORT", ["requester"], "Park Seo-yeon"),
    ("officer.bt", "BT-DRC", ["requester"], "Karma Wangchuk"),
    ("focal.bt", "BT-DRC", ["focal_point"], "Pema Choden"),
    ("supervisor", "KCS-ICN-AIR", ["requester", "supervisor"], "Jeon Min-seo"),
    ("manager.icn", "KCS-ICN", ["lab_manager"], "Choi Hyun-woo"),
    ("analyst.icn", "KCS-ICN", ["analyst"], "Jung Da-eun"),
    ("manager.sel", "KCS-SEL", ["lab_manager"], "Kang Eun-ji"),
    ("analyst.sel", "KCS-SEL", ["analyst"], "Yoon Ji-ho"),
    ("reviewer.sel", "KCS-SEL", ["reviewer"], "Han Soo-ah"),
    ("analyst.bsn", "KCS-BSN", ["analyst"], "Lim Jae-won"),
    ("manager.bsn", "KCS-BSN", ["lab_manager"], "Shin Yu-na"),
    ("reviewer.bsn", "KCS-BSN", ["reviewer"], "Oh Tae-yang"),
    ("manager.ccl", "KCS-CCL", ["lab_manager"], "Kim Min-jun"),
    ("analyst", "KCS-CCL", ["analyst"], "Song Ha-eun"),
    ("analyst2", "KCS-CCL", ["analyst"], "Baek Do-hyun"),
    ("reviewer", "KCS-CCL", ["reviewer"], "Jang Seo-jun"),
    ("analyst.jp", "RCL-JP", ["analyst"], "Tanaka Haruto"),
    ("reviewer.jp", "RCL-JP", ["reviewer", "lab_manager"], "Sato Yui"),
    ("analyst.in", "RCL-IN", ["analyst"], "Arjun Mehta"),
    ("coordinator", "RCL-JP", ["network_coordinator"], "Suzuki Aoi"),
    ("admin", "KCS-CCL", ["admin"], "System Administrator"),
]

#: goods description, declared HS, origin, reason, determination, method, result name, unit, value range, U
GOODS: list[tuple[str, str, str, str, str, str, str, str, tuple[float, float], float]] = [
    (
        "Rum, 700 mL bottles",
        "220840",
        "JM",
        "classification",
        "Alcoholic strength",
        "KCL-M-022 densimetry",
        "alcohol_strength",
        "%vol",
        (37.5, 43.0),
        0.2,
    ),
    (
        "Undenatured ethyl alcohol in drums",
        "220710",
        "BR",
        "classification",
        "Alcoholic strength",
        "KCL-M-022 densimetry",
        "alcohol_strength",
        "%vol",
        (78.5, 96.0),
        0.3,
    ),
    (
        "Raw cane sugar",
        "170114",
        "TH",
        "classification",
        "Polarisation",
        "ICUMSA GS1/2/3-1 polarimetry",
        "polarisation",
        "°Z",
        (97.0, 99.8),
        0.1,
    ),
    (
        "Polyethylene pellets",
        "390110",
        "SA",
        "classification",
        "Specific gravity; polymer identity (FTIR)",
        "KCL-M-039 density gradient + ATR-FTIR",
        "specific_gravity",
        "1",
        (0.915, 0.965),
        0.002,
    ),
    (
        "Stainless steel flat-rolled",
        "721934",
        "CN",
        "classification",
        "Chromium and carbon content",
        "KCL-M-072 OES",
        "element.Cr",
        "%",
        (9.8, 18.5),
        0.15,
    ),
    (
        "Copper cathodes",
        "740311",
        "CL",
        "classification",
        "Copper content",
        "KCL-M-074 electrogravimetry",
        "element.Cu",
        "%",
        (99.70, 99.99),
        0.02,
    ),
    (
        "Chocolate-flavoured cereal preparation",
        "190190",
        "BE",
        "classification",
        "Cocoa content",
        "KCL-M-019 HPLC theobromine/caffeine",
        "cocoa_defatted",
        "%",
        (3.0, 9.0),
        0.3,
    ),
    (
        "Stuffed pasta with meat",
        "190220",
        "IT",
        "classification",
        "Meat content",
        "KCL-M-016 protein calculation",
        "meat_fish_content",
        "%",
        (10.0, 30.0),
        1.0,
    ),
    (
        "Fish oil capsules",
        "150420",
        "NO",
        "origin",
        "Fatty acid profile",
        "KCL-M-015 GC-FID FAME",
        "erucic_acid",
        "%",
        (0.1, 1.5),
        0.05,
    ),
    (
        "Activated carbon granules",
        "380210",
        "VN",
        "classification",
        "Iodine number; ash",
        "ASTM D4607",
        "iodine_number",
        "mg/g",
        (300.0, 1100.0),
        20.0,
    ),
    (
        "Dried red pepper powder",
        "090422",
        "CN",
        "classification",
        "Capsaicinoids; moisture",
        "KCL-M-009 HPLC",
        "moisture",
        "%",
        (8.0, 14.0),
        0.3,
    ),
    (
        "White crystalline powder, suspected narcotic",
        "293971",
        "MX",
        "narcotics_precursors",
        "Identification (GC-MS)",
        "KCL-M-029 GC-MS library search",
        "purity",
        "%",
        (20.0, 80.0),
        3.0,
    ),
    (
        "Light petroleum distillate",
        "271012",
        "SG",
        "classification",
        "Distillation ISO 3405",
        "ISO 3405 distillation",
        "distilled_210",
        "%vol",
        (80.0, 98.0),
        1.0,
    ),
    (
        "Bituminous coal",
        "270112",
        "AU",
        "classification",
        "Volatile matter; calorific value",
        "ISO 562 / ISO 1928",
        "volatile_matter",
        "%",
        (10.0, 36.0),
        0.5,
    ),
    (
        "Toy with plasticiser, hazardous suspicion",
        "950300",
        "CN",
        "safety_hazardous",
        "Phthalates (GC-MS)",
        "KCL-M-095 GC-MS",
        "dehp",
        "mg/kg",
        (50.0, 3000.0),
        40.0,
    ),
]
