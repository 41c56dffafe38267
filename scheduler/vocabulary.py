"""The controlled vocabulary of the app: technologies, certifications, lot sizes, prefectures.

Profiles and needs store stable codes (``"machining.5axis"``), never labels, so that
matching, search and imports compare like with like and a label can be reworded or
translated without touching data. Codes are ``<field>.<item>``; a field's code is the
part before the dot.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Term:
    """One entry of the vocabulary: a stable code and its labels."""

    code: str
    ja: str
    en: str

    def label(self, locale: str = "ja") -> str:
        """The label in ``locale`` (Japanese unless the locale is English)."""
        return self.en if locale.startswith("en") else self.ja


@dataclass(frozen=True, slots=True)
class Field:
    """A field of manufacturing (切削加工, 板金・プレス, …) and its technologies."""

    code: str
    ja: str
    en: str
    technologies: tuple[Term, ...]

    def label(self, locale: str = "ja") -> str:
        """The label in ``locale`` (Japanese unless the locale is English)."""
        return self.en if locale.startswith("en") else self.ja


def _field(code: str, ja: str, en: str, items: list[tuple[str, str, str]]) -> Field:
    return Field(code, ja, en, tuple(Term(f"{code}.{item}", tja, ten) for item, tja, ten in items))


FIELDS: tuple[Field, ...] = (
    _field("machining", "切削加工", "Machining", [
        ("turning", "旋盤加工", "Turning"),
        ("milling", "フライス加工", "Milling"),
        ("machining_center", "マシニング加工", "Machining centre work"),
        ("5axis", "5軸加工", "5-axis machining"),
        ("swiss", "複合旋盤・自動盤加工", "Swiss-type and multi-tasking turning"),
        ("grinding", "研削加工", "Grinding"),
        ("edm", "放電加工", "Electrical discharge machining (EDM)"),
        ("wire_edm", "ワイヤーカット", "Wire EDM"),
        ("gear", "歯車加工", "Gear cutting"),
        ("precision", "精密微細加工", "Precision micro-machining"),
    ]),
    _field("sheet_metal", "板金・プレス", "Sheet metal & press", [
        ("laser_cutting", "レーザー切断", "Laser cutting"),
        ("turret_punch", "タレットパンチ加工", "Turret punching"),
        ("bending", "曲げ加工", "Bending"),
        ("press", "プレス加工", "Press working"),
        ("progressive_die", "順送プレス", "Progressive-die stamping"),
        ("deep_drawing", "深絞り加工", "Deep drawing"),
        ("spinning", "へら絞り", "Metal spinning"),
        ("die_making", "金型製作", "Die and mould making"),
    ]),
    _field("casting_forging", "鋳造・鍛造", "Casting & forging", [
        ("sand_casting", "砂型鋳造", "Sand casting"),
        ("die_casting", "ダイカスト", "Die casting"),
        ("investment_casting", "ロストワックス鋳造", "Investment casting"),
        ("hot_forging", "熱間鍛造", "Hot forging"),
        ("cold_forging", "冷間鍛造", "Cold forging"),
        ("powder_metallurgy", "粉末冶金", "Powder metallurgy"),
    ]),
    _field("joining", "溶接・接合", "Welding & joining", [
        ("tig", "TIG溶接", "TIG welding"),
        ("mig_mag", "MIG・MAG溶接", "MIG/MAG welding"),
        ("laser_welding", "レーザー溶接", "Laser welding"),
        ("spot", "スポット溶接", "Spot welding"),
        ("brazing", "ろう付け", "Brazing"),
        ("friction_stir", "摩擦攪拌接合", "Friction stir welding"),
        ("structural", "製缶・構造物溶接", "Fabrication and structural welding"),
    ]),
    _field("surface_heat", "表面処理・熱処理", "Surface & heat treatment", [
        ("plating", "めっき", "Plating"),
        ("painting", "塗装", "Painting"),
        ("powder_coating", "粉体塗装", "Powder coating"),
        ("anodizing", "アルマイト", "Anodizing"),
        ("quenching", "焼入れ", "Quenching"),
        ("carburizing", "浸炭", "Carburizing"),
        ("nitriding", "窒化処理", "Nitriding"),
        ("coating", "PVD・DLCコーティング", "PVD/DLC coating"),
        ("polishing", "研磨・バフ仕上げ", "Polishing and buffing"),
    ]),
    _field("plastics_rubber", "樹脂・ゴム成形", "Plastics & rubber moulding", [
        ("injection", "射出成形", "Injection moulding"),
        ("blow", "ブロー成形", "Blow moulding"),
        ("extrusion", "押出成形", "Extrusion"),
        ("vacuum", "真空成形", "Vacuum forming"),
        ("rubber", "ゴム成形", "Rubber moulding"),
        ("frp", "FRP成形", "FRP moulding"),
        ("resin_machining", "樹脂切削加工", "Plastic machining"),
    ]),
    _field("electronics", "電子・基板", "Electronics & PCB", [
        ("pcb_assembly", "基板実装", "PCB assembly"),
        ("circuit_design", "回路設計", "Circuit design"),
        ("pcb_design", "基板設計", "PCB layout"),
        ("harness", "ハーネス加工", "Wire harnesses"),
        ("control_panel", "制御盤製作", "Control panels"),
        ("power_electronics", "電源・パワーエレクトロニクス", "Power electronics"),
    ]),
    _field("software_iot", "ソフトウェア・IoT", "Software & IoT", [
        ("embedded", "組込みソフトウェア", "Embedded software"),
        ("iot", "IoTシステム構築", "IoT systems"),
        ("plc", "PLCプログラミング", "PLC programming"),
        ("image_processing", "画像処理・AI", "Image processing and AI"),
        ("production_system", "生産管理システム", "Production management systems"),
    ]),
    _field("inspection", "検査・測定", "Inspection & measurement", [
        ("cmm", "三次元測定", "Coordinate measuring (CMM)"),
        ("non_destructive", "非破壊検査", "Non-destructive testing"),
        ("xray_ct", "X線CT検査", "X-ray CT inspection"),
        ("surface_roughness", "形状・面粗さ測定", "Form and surface roughness measurement"),
        ("reliability", "信頼性試験", "Reliability testing"),
    ]),
    _field("design_prototyping", "設計・試作", "Design & prototyping", [
        ("mechanical_design", "機械設計", "Mechanical design"),
        ("cad_cam", "CAD/CAMデータ作成", "CAD/CAM data"),
        ("3d_printing", "3Dプリンタ造形", "3D printing"),
        ("reverse_engineering", "リバースエンジニアリング", "Reverse engineering"),
        ("jig", "治具設計・製作", "Jig and fixture design"),
        ("rapid_prototyping", "短納期試作", "Rapid prototyping"),
    ]),
    _field("assembly", "組立", "Assembly", [
        ("unit_assembly", "ユニット組立", "Unit assembly"),
        ("machine_assembly", "装置組立", "Machine assembly"),
        ("labour_saving", "省力化装置製作", "Automation and labour-saving machines"),
        ("cleanroom", "クリーンルーム組立", "Cleanroom assembly"),
    ]),
)

TECHNOLOGIES: MappingProxyType[str, Term] = MappingProxyType(
    {term.code: term for field in FIELDS for term in field.technologies}
)
_FIELDS_BY_CODE: dict[str, Field] = {field.code: field for field in FIELDS}

CERTIFICATIONS: tuple[Term, ...] = (
    Term("iso9001", "ISO 9001", "ISO 9001"),
    Term("iso14001", "ISO 14001", "ISO 14001"),
    Term("iatf16949", "IATF 16949", "IATF 16949"),
    Term("jisq9100", "JIS Q 9100", "JIS Q 9100 (aerospace)"),
    Term("iso13485", "ISO 13485", "ISO 13485 (medical devices)"),
    Term("iso45001", "ISO 45001", "ISO 45001"),
    Term("iso27001", "ISO/IEC 27001", "ISO/IEC 27001"),
    Term("ecoaction21", "エコアクション21", "Eco-Action 21"),
    Term("nadcap", "Nadcap", "Nadcap"),
    Term("kes", "KES環境マネジメント", "KES environmental management"),
)

LOT_SIZES: tuple[Term, ...] = (
    Term("prototype", "試作", "Prototype"),
    Term("small_lot", "小ロット", "Small lot"),
    Term("mass", "量産", "Mass production"),
)

PREFECTURES: tuple[str, ...] = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県",
    "茨城県", "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県",
    "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県",
    "岐阜県", "静岡県", "愛知県", "三重県",
    "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県",
    "鳥取県", "島根県", "岡山県", "広島県", "山口県",
    "徳島県", "香川県", "愛媛県", "高知県",
    "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
)


def is_known_technology(code: str) -> bool:
    """Whether ``code`` is a technology of the vocabulary (not a field, not free text)."""
    return code in TECHNOLOGIES


def technology_label(code: str, locale: str = "ja") -> str:
    """The label of a technology code; an unknown code is shown as it is.

    Shown as-is rather than raising because imported or older data may carry codes
    the vocabulary no longer has, and a page must still render them.
    """
    term = TECHNOLOGIES.get(code)
    return term.label(locale) if term is not None else code


def technologies_by_field() -> tuple[Field, ...]:
    """The fields in display order, each with its technologies (for pickers and filters)."""
    return FIELDS


def field_of(code: str) -> Field | None:
    """The field a technology code belongs to, or None for an unknown code."""
    if not is_known_technology(code):
        return None
    return _FIELDS_BY_CODE[code.split(".", 1)[0]]


def certification_label(code: str, locale: str = "ja") -> str:
    """The label of a certification code; an unknown code is shown as it is."""
    for term in CERTIFICATIONS:
        if term.code == code:
            return term.label(locale)
    return code


def lot_size_label(code: str, locale: str = "ja") -> str:
    """The label of a lot-size code; an unknown code is shown as it is."""
    for term in LOT_SIZES:
        if term.code == code:
            return term.label(locale)
    return code
