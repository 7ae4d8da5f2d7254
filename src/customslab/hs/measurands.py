"""The measurands a result may be named after: the HS rules' inputs and the usual laboratory ones.

A result's name is a key (``alcohol_strength``, ``element.Cr``, ``monomer.ethylene``) so that the HS
rules read what analysts enter; people see a label ("Alcoholic strength", "chromium (Cr)"). The named
quantities, their labels in English and Korean and their aliases are data (hs/rules/quantities/*.yaml),
so a rule family brings its own inputs; result entry, the pages (in the page's language) and a report
issued in Korean all read the same labels. Units and symbols stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from customslab.hs.quantities import QUANTITIES, fold


@dataclass(frozen=True, slots=True)
class Measurand:
    key: str  # what a result's name stores
    label: str  # English label; translated at the edges
    unit: str  # default unit offered on entry ("" for a ratio or a pure number)
    hs: bool = False  # an input of an HS rule
    label_ko: str = ""  # Korean label, printed on a report issued in Korean


# Element names (IUPAC, English), by atomic number, so element.<symbol> always reads as words.
_ELEMENT_WORDS = (  # noqa: SIM905 - a compact table reads better than 236 quoted words
    "H hydrogen He helium Li lithium Be beryllium B boron C carbon N nitrogen O oxygen F fluorine "
    "Ne neon Na sodium Mg magnesium Al aluminium Si silicon P phosphorus S sulfur Cl chlorine "
    "Ar argon K potassium Ca calcium Sc scandium Ti titanium V vanadium Cr chromium Mn manganese "
    "Fe iron Co cobalt Ni nickel Cu copper Zn zinc Ga gallium Ge germanium As arsenic Se selenium "
    "Br bromine Kr krypton Rb rubidium Sr strontium Y yttrium Zr zirconium Nb niobium Mo molybdenum "
    "Tc technetium Ru ruthenium Rh rhodium Pd palladium Ag silver Cd cadmium In indium Sn tin "
    "Sb antimony Te tellurium I iodine Xe xenon Cs caesium Ba barium La lanthanum Ce cerium "
    "Pr praseodymium Nd neodymium Pm promethium Sm samarium Eu europium Gd gadolinium Tb terbium "
    "Dy dysprosium Ho holmium Er erbium Tm thulium Yb ytterbium Lu lutetium Hf hafnium Ta tantalum "
    "W tungsten Re rhenium Os osmium Ir iridium Pt platinum Au gold Hg mercury Tl thallium Pb lead "
    "Bi bismuth Po polonium At astatine Rn radon Fr francium Ra radium Ac actinium Th thorium "
    "Pa protactinium U uranium Np neptunium Pu plutonium Am americium Cm curium Bk berkelium "
    "Cf californium Es einsteinium Fm fermium Md mendelevium No nobelium Lr lawrencium "
    "Rf rutherfordium Db dubnium Sg seaborgium Bh bohrium Hs hassium Mt meitnerium "
    "Ds darmstadtium Rg roentgenium Cn copernicium Nh nihonium Fl flerovium Mc moscovium "
    "Lv livermorium Ts tennessine Og oganesson"
).split()
ELEMENT_NAMES: dict[str, str] = dict(zip(_ELEMENT_WORDS[::2], _ELEMENT_WORDS[1::2], strict=True))
# The same elements' Korean names, in the same order: as the Korean tariff (관세율표) names them where it
# names them (크롬, 망간, 몰리브덴, 요오드...), else the Korean Chemical Society's names (2014).
_ELEMENT_WORDS_KO = (  # noqa: SIM905
    "H 수소 He 헬륨 Li 리튬 Be 베릴륨 B 붕소 C 탄소 N 질소 O 산소 F 불소 Ne 네온 Na 나트륨 "
    "Mg 마그네슘 Al 알루미늄 Si 규소 P 인 S 황 Cl 염소 Ar 아르곤 K 칼륨 Ca 칼슘 Sc 스칸듐 "
    "Ti 티타늄 V 바나듐 Cr 크롬 Mn 망간 Fe 철 Co 코발트 Ni 니켈 Cu 구리 Zn 아연 Ga 갈륨 "
    "Ge 게르마늄 As 비소 Se 셀렌 Br 브롬 Kr 크립톤 Rb 루비듐 Sr 스트론튬 Y 이트륨 Zr 지르코늄 "
    "Nb 니오븀 Mo 몰리브덴 Tc 테크네튬 Ru 루테늄 Rh 로듐 Pd 팔라듐 Ag 은 Cd 카드뮴 In 인듐 "
    "Sn 주석 Sb 안티몬 Te 텔루르 I 요오드 Xe 제논 Cs 세슘 Ba 바륨 La 란타넘 Ce 세륨 "
    "Pr 프라세오디뮴 Nd 네오디뮴 Pm 프로메튬 Sm 사마륨 Eu 유로퓸 Gd 가돌리늄 Tb 터븀 Dy 디스프로슘 "
    "Ho 홀뮴 Er 어븀 Tm 툴륨 Yb 이터븀 Lu 루테튬 Hf 하프늄 Ta 탄탈 W 텅스텐 Re 레늄 Os 오스뮴 "
    "Ir 이리듐 Pt 백금 Au 금 Hg 수은 Tl 탈륨 Pb 납 Bi 비스무트 Po 폴로늄 At 아스타틴 Rn 라돈 "
    "Fr 프랑슘 Ra 라듐 Ac 악티늄 Th 토륨 Pa 프로트악티늄 U 우라늄 Np 넵투늄 Pu 플루토늄 "
    "Am 아메리슘 Cm 퀴륨 Bk 버클륨 Cf 캘리포늄 Es 아인슈타이늄 Fm 페르뮴 Md 멘델레븀 No 노벨륨 "
    "Lr 로렌슘 Rf 러더포듐 Db 더브늄 Sg 시보귬 Bh 보륨 Hs 하슘 Mt 마이트너륨 Ds 다름슈타튬 "
    "Rg 뢴트게늄 Cn 코페르니슘 Nh 니호늄 Fl 플레로븀 Mc 모스코븀 Lv 리버모륨 Ts 테네신 Og 오가네손"
).split()
ELEMENT_NAMES_KO: dict[str, str] = dict(zip(_ELEMENT_WORDS_KO[::2], _ELEMENT_WORDS_KO[1::2], strict=True))

# Elements the HS rules name (steel, copper, precious metals) and the usual metals of alloy work.
_ELEMENTS_OFFERED = (  # noqa: SIM905
    "C Si Mn P S Cr Ni Mo Cu Al B Co Nb Ti V W Zr Pb N Fe Zn Sn Mg Ag Au Pt Pd Rh Ir Os Ru As Cd Te "
    "Bi Sb Be Ge Ga Hf In Re Tl"
).split()
# Monomer units the copolymer rule (Chapter 39) knows.
_MONOMERS = (  # noqa: SIM905
    "ethylene propylene isobutylene butene hexene octene styrene vinyl_chloride vinylidene_chloride "
    "tetrafluoroethylene vinyl_acetate methyl_methacrylate acrylonitrile acrylic_acid"
).split()
_MONOMERS_KO = {
    "ethylene": "에틸렌",
    "propylene": "프로필렌",
    "isobutylene": "이소부틸렌",
    "butene": "부텐",
    "hexene": "헥센",
    "octene": "옥텐",
    "styrene": "스티렌",
    "vinyl_chloride": "염화비닐",
    "vinylidene_chloride": "염화비닐리덴",
    "tetrafluoroethylene": "테트라플루오로에틸렌",
    "vinyl_acetate": "초산비닐",
    "methyl_methacrylate": "메타크릴산메틸",
    "acrylonitrile": "아크릴로니트릴",
    "acrylic_acid": "아크릴산",
}
# Textile fibres the Section XI rules map to a textile material (fibre.<name>, a share of the blend by
# mass), with their Korean names as the Korean tariff (관세율표) writes them where it names them.
_FIBRES_KO = {
    "silk": "견",
    "wool": "양모",
    "fine_animal_hair": "동물의 부드러운 털",
    "coarse_animal_hair": "동물의 거친 털",
    "horsehair": "말의 털",
    "gimped_horsehair_yarn": "말의 털로 만든 짐프사",
    "cotton": "면",
    "flax": "아마",
    "jute": "황마",
    "other_bast": "그 밖의 방적용 인피섬유",
    "true_hemp": "대마",
    "ramie": "라미",
    "other_vegetable": "그 밖의 식물성 방적용 섬유",
    "paper_yarn": "지사",
    "synthetic_filament": "합성필라멘트",
    "polyester_filament": "폴리에스테르 필라멘트",
    "polyamide_filament": "나일론이나 그 밖의 폴리아미드 필라멘트",
    "polypropylene_filament": "폴리프로필렌 필라멘트",
    "elastane": "엘라스탄",
    "artificial_filament": "재생·반합성필라멘트",
    "viscose_filament": "비스코스레이온 필라멘트",
    "acetate_filament": "아세테이트 필라멘트",
    "cupro_filament": "구리암모늄레이온 필라멘트",
    "synthetic_staple": "합성스테이플섬유",
    "polyester_staple": "폴리에스테르 스테이플섬유",
    "polyamide_staple": "나일론이나 그 밖의 폴리아미드 스테이플섬유",
    "acrylic_staple": "아크릴 스테이플섬유",
    "modacrylic_staple": "모드아크릴 스테이플섬유",
    "polypropylene_staple": "폴리프로필렌 스테이플섬유",
    "artificial_staple": "재생·반합성스테이플섬유",
    "viscose_staple": "비스코스레이온 스테이플섬유",
    "lyocell_staple": "라이오셀 스테이플섬유",
    "modal_staple": "모달 스테이플섬유",
    "acetate_staple": "아세테이트 스테이플섬유",
    "metallised_yarn": "금속드리사",
    "metal_thread": "금속사",
}
# Usual determinations of a customs laboratory that no HS rule reads (yet): offered, not required.
_OTHER = (
    Measurand("density", "Density at 20 °C", "g/mL", label_ko="20 °C 밀도"),
    Measurand("ph", "pH", "pH", label_ko="pH"),
)


def _monomer_label(member: str) -> str:
    return f"{member.replace('_', ' ')} (monomer unit)"


def _monomer_label_ko(member: str) -> str:
    # A monomer the list does not name keeps its English name; the words around it are Korean.
    return f"{_MONOMERS_KO.get(member, member.replace('_', ' '))}(단량체 단위)"


def _element_label(symbol: str) -> str:
    return f"{ELEMENT_NAMES[symbol]} ({symbol})"


def _element(symbol: str) -> Measurand:
    label_ko = f"{ELEMENT_NAMES_KO[symbol]}({symbol})"
    return Measurand(f"element.{symbol}", _element_label(symbol), "%", hs=True, label_ko=label_ko)


def _monomer(member: str) -> Measurand:
    return Measurand(
        f"monomer.{member}", _monomer_label(member), "%", hs=True, label_ko=_monomer_label_ko(member)
    )


def _fibre(member: str) -> Measurand:
    # A fibre the list does not name keeps its English name in the Korean label.
    label_ko = f"{_FIBRES_KO.get(member, member.replace('_', ' '))}(혼용률)"
    return Measurand(f"fibre.{member}", f"{member.replace('_', ' ')} (fibre share)", "%", True, label_ko)


MEASURANDS: tuple[Measurand, ...] = (
    *(
        Measurand(key, spec.label, spec.unit, hs=True, label_ko=spec.label_ko)
        for key, spec in QUANTITIES.items()
    ),
    *(_element(s) for s in _ELEMENTS_OFFERED),
    *(_monomer(m) for m in _MONOMERS),
    *(_fibre(f) for f in _FIBRES_KO),
    *_OTHER,
)
_BY_KEY = {m.key: m for m in MEASURANDS}
_BY_LABEL = {fold(m.label): m.key for m in MEASURANDS} | {
    fold(m.label_ko): m.key for m in MEASURANDS if m.label_ko
}
#: Other spellings analysts and worksheets use (each quantity's aliases), and the quantities' meanings.
_SPELLINGS = {
    **{fold(spec.meaning): key for key, spec in QUANTITIES.items()},
    **{fold(alias): key for key, spec in QUANTITIES.items() for alias in spec.aliases},
}


def measurand(name: str) -> Measurand | None:
    """The measurand a result's name stores, also any element.<symbol>, monomer.<name> or fibre.<name>
    not listed."""
    key = name.strip()
    if key in _BY_KEY:
        return _BY_KEY[key]
    family, _, member = key.partition(".")
    if family == "element" and member in ELEMENT_NAMES:
        return _element(member)
    if family == "monomer" and member and member.replace("_", "").isalnum() and member.islower():
        return _monomer(member)
    if family == "fibre" and member and member.replace("_", "").isalnum() and member.islower():
        return _fibre(member)
    return None


def measurand_label(name: str, language: str = "en") -> str:
    """A human label for any result name: a measurand's label, "chromium (Cr)", else the name itself;
    in Korean ("ko") the measurand's Korean label."""
    found = measurand(name)
    if found is None:
        return name
    return found.label_ko if language == "ko" and found.label_ko else found.label


def measurand_key(text: str) -> str:
    """The key for what an analyst typed: a key, a whole label in English or Korean ("Alcoholic strength
    by volume", "알코올 도수"), an element's name ("Chromium") or a known other spelling ("polarization");
    any other name is kept as typed. No start of a label is read as its key: "Density" is not the density
    at 20 °C, nor "Meat" the meat content a Chapter 16 rule reads."""
    typed = text.strip()
    if measurand(typed) is not None:
        return typed
    folded = fold(typed)
    if folded in _BY_LABEL:
        return _BY_LABEL[folded]
    if folded in _SPELLINGS:
        return _SPELLINGS[folded]
    for symbol, word in ELEMENT_NAMES.items():
        if folded == word:
            return f"element.{symbol}"
    return typed


def default_unit(name: str) -> str:
    """The unit offered for a measurand ("" when none is known)."""
    found = measurand(name)
    return found.unit if found is not None else ""
