"""A deterministic, realistic demo fair: a prefectural ものづくり受発注商談会.

``generate_demo`` builds one event with its day, slot grid, phase deadlines, rooms and
tables, buyers (larger manufacturers, each hosting its own table, with 発注ニーズ) and
suppliers (local SMEs with technologies, equipment and certifications), their
attendees, availability, and the interest both sides stated. It is used by
``matchfair demo load``, by tests at small sizes and by the benchmarks at large ones.

Everything random comes from one ``random.Random(seed)`` and only lists are iterated
(never sets of strings, whose order changes with ``PYTHONHASHSEED``), so a seed always
yields the same fair. The secret participant tokens stay random on purpose: a demo
loaded on a reachable server must not have guessable links.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.errors import ValidationFailed
from scheduler.i18n import N_
from scheduler.models import (
    Attendance,
    Event,
    EventDay,
    Interest,
    Need,
    Organization,
    Participant,
    ParticipantRole,
    Person,
    Phase,
    PhaseDeadline,
    Role,
    Room,
    Slot,
    Table,
    User,
)
from scheduler.names import company_name_key
from scheduler.users import create_user
from scheduler.vocabulary import (
    FIELDS,
    LOT_SIZES,
    TECHNOLOGIES,
    certification_label,
    field_of,
    technology_label,
)

DEMO_ORGANIZER_EMAIL = "organizer@example.jp"
DEMO_STAFF_EMAIL = "staff@example.jp"
# Printed by ``matchfair demo load``; a demo database is not meant to face the internet.
DEMO_PASSWORD = "matchfair-demo"

TIMEZONE = "Asia/Tokyo"
HOST_PREFECTURE = "静岡県"
MEETING_MINUTES = 25
CHANGEOVER_MINUTES = 5
DAY_START, DAY_END = time(10, 0), time(16, 30)
LUNCH = {"start": "12:00", "end": "13:00", "label": "昼休み"}
TABLES_PER_ROOM = 24
# One letter per room; B and S are left out so that table "B01" is never read as buyer "B001".
TABLE_LETTERS = "ACDEFGHJKLMNPQRTUVWXYZ"
SPARE_TABLES = 2
MAX_REQUESTS = 8
LATE_OR_EARLY_SHARE = 0.18
TWO_DESK_SHARE = 0.12

# --------------------------------------------------------------------------- words
# (kanji, katakana, romaji) so that names, their kana and example.jp domains agree.
Word = tuple[str, str, str]

SURNAMES: tuple[Word, ...] = (
    ("山田", "ヤマダ", "yamada"), ("鈴木", "スズキ", "suzuki"), ("佐藤", "サトウ", "sato"),
    ("高橋", "タカハシ", "takahashi"), ("伊藤", "イトウ", "ito"), ("渡辺", "ワタナベ", "watanabe"),
    ("中村", "ナカムラ", "nakamura"), ("小林", "コバヤシ", "kobayashi"), ("加藤", "カトウ", "kato"),
    ("吉田", "ヨシダ", "yoshida"), ("山本", "ヤマモト", "yamamoto"),
    ("杉山", "スギヤマ", "sugiyama"),
    ("望月", "モチヅキ", "mochizuki"), ("松下", "マツシタ", "matsushita"),
    ("大石", "オオイシ", "oishi"),
    ("石川", "イシカワ", "ishikawa"), ("村松", "ムラマツ", "muramatsu"),
    ("河合", "カワイ", "kawai"),
    ("太田", "オオタ", "ota"), ("増田", "マスダ", "masuda"), ("野口", "ノグチ", "noguchi"),
    ("青木", "アオキ", "aoki"), ("内田", "ウチダ", "uchida"), ("藤田", "フジタ", "fujita"),
    ("後藤", "ゴトウ", "goto"), ("清水", "シミズ", "shimizu"), ("原田", "ハラダ", "harada"),
    ("池田", "イケダ", "ikeda"), ("橋本", "ハシモト", "hashimoto"),
    ("坂本", "サカモト", "sakamoto"),
    ("杉本", "スギモト", "sugimoto"), ("寺田", "テラダ", "terada"), ("平野", "ヒラノ", "hirano"),
    ("袴田", "ハカマタ", "hakamata"), ("匂坂", "サギサカ", "sagisaka"),
    ("鈴川", "スズカワ", "suzukawa"),
    ("大橋", "オオハシ", "ohashi"), ("森下", "モリシタ", "morishita"),
    ("久保田", "クボタ", "kubota"),
    ("小澤", "オザワ", "ozawa"), ("堀内", "ホリウチ", "horiuchi"),
    ("榊原", "サカキバラ", "sakakibara"),
    ("丸山", "マルヤマ", "maruyama"), ("石田", "イシダ", "ishida"), ("野村", "ノムラ", "nomura"),
    ("市川", "イチカワ", "ichikawa"), ("竹内", "タケウチ", "takeuchi"),
    ("服部", "ハットリ", "hattori"),
)
PLACE_STEMS: tuple[Word, ...] = (
    ("遠州", "エンシュウ", "enshu"), ("駿河", "スルガ", "suruga"), ("富士", "フジ", "fuji"),
    ("浜名", "ハマナ", "hamana"), ("天竜", "テンリュウ", "tenryu"), ("大井", "オオイ", "oi"),
    ("東海", "トウカイ", "tokai"), ("三和", "サンワ", "sanwa"), ("協栄", "キョウエイ", "kyoei"),
    ("丸高", "マルタカ", "marutaka"), ("山一", "ヤマイチ", "yamaichi"),
    ("大栄", "ダイエイ", "daiei"),
    ("新光", "シンコウ", "shinko"), ("明光", "メイコウ", "meiko"),
    ("共進", "キョウシン", "kyoshin"),
    ("三方原", "ミカタハラ", "mikatahara"), ("安倍川", "アベカワ", "abekawa"),
    ("竜洋", "リュウヨウ", "ryuyo"),
    ("中遠", "チュウエン", "chuen"), ("東栄", "トウエイ", "toei"),
    ("丸八", "マルハチ", "maruhachi"),
    ("光和", "コウワ", "kowa"), ("日昇", "ニッショウ", "nissho"), ("湖西", "コサイ", "kosai"),
)
BUYER_PREFIXES: tuple[Word, ...] = (
    ("東和", "トウワ", "towa"), ("大和", "ダイワ", "daiwa"), ("富士見", "フジミ", "fujimi"),
    ("駿河", "スルガ", "suruga"), ("遠州", "エンシュウ", "enshu"), ("浜名", "ハマナ", "hamana"),
    ("天竜", "テンリュウ", "tenryu"), ("三協", "サンキョウ", "sankyo"),
    ("日東", "ニットウ", "nitto"),
    ("昭栄", "ショウエイ", "shoei"), ("中央", "チュウオウ", "chuo"), ("協和", "キョウワ", "kyowa"),
    ("大成", "タイセイ", "taisei"), ("太平", "タイヘイ", "taihei"), ("日進", "ニッシン", "nisshin"),
    ("明和", "メイワ", "meiwa"), ("光洋", "コウヨウ", "koyo"), ("新和", "シンワ", "shinwa"),
    ("朝日", "アサヒ", "asahi"), ("豊和", "ホウワ", "howa"), ("興和", "コウワ", "kowa"),
    ("北斗", "ホクト", "hokuto"), ("三栄", "サンエイ", "sanei"), ("千代田", "チヨダ", "chiyoda"),
    ("白鳥", "シラトリ", "shiratori"), ("東海", "トウカイ", "tokai"), ("富岳", "フガク", "fugaku"),
    ("瑞穂", "ミズホ", "mizuho"), ("大井川", "オオイガワ", "oigawa"), ("磐城", "イワキ", "iwaki"),
)
GIVEN_NAMES: tuple[Word, ...] = (
    ("健一", "ケンイチ", "kenichi"), ("誠", "マコト", "makoto"), ("大輔", "ダイスケ", "daisuke"),
    ("翔太", "ショウタ", "shota"), ("直樹", "ナオキ", "naoki"), ("浩二", "コウジ", "koji"),
    ("裕子", "ユウコ", "yuko"), ("美咲", "ミサキ", "misaki"), ("恵", "メグミ", "megumi"),
    ("真由美", "マユミ", "mayumi"), ("彩", "アヤ", "aya"), ("拓也", "タクヤ", "takuya"),
    ("和也", "カズヤ", "kazuya"), ("智子", "トモコ", "tomoko"), ("陽子", "ヨウコ", "yoko"),
    ("亮", "リョウ", "ryo"), ("隆", "タカシ", "takashi"), ("修", "オサム", "osamu"),
    ("聡", "サトシ", "satoshi"), ("由美", "ユミ", "yumi"), ("健太", "ケンタ", "kenta"),
    ("剛", "ツヨシ", "tsuyoshi"), ("明美", "アケミ", "akemi"), ("達也", "タツヤ", "tatsuya"),
    ("雅人", "マサト", "masato"), ("千尋", "チヒロ", "chihiro"), ("洋平", "ヨウヘイ", "yohei"),
    ("悠", "ハルカ", "haruka"), ("康弘", "ヤスヒロ", "yasuhiro"), ("奈緒", "ナオ", "nao"),
)

# Company-type words by the supplier's main field (what a 製作所 or a 化成 usually does).
SUPPLIER_TYPES: dict[str, tuple[Word, ...]] = {
    "machining": (
        ("製作所", "セイサクショ", "seisakusho"), ("精工", "セイコウ", "seiko"),
        ("精機", "セイキ", "seiki"), ("鉄工所", "テッコウショ", "tekkosho"),
        ("精密", "セイミツ", "seimitsu"), ("工業", "コウギョウ", "kogyo"),
    ),
    "sheet_metal": (
        ("板金工業", "バンキンコウギョウ", "bankin"), ("プレス工業", "プレスコウギョウ", "press"),
        ("金型製作所", "カナガタセイサクショ", "kanagata"), ("工業", "コウギョウ", "kogyo"),
        ("製作所", "セイサクショ", "seisakusho"),
    ),
    "casting_forging": (
        ("鋳造所", "チュウゾウショ", "chuzo"), ("鋳工", "チュウコウ", "chuko"),
        ("鍛工", "タンコウ", "tanko"), ("鋳鋼", "チュウコウ", "chuko"),
    ),
    "joining": (
        ("鉄工", "テッコウ", "tekko"), ("溶接工業", "ヨウセツコウギョウ", "yosetsu"),
        ("製缶工業", "セイカンコウギョウ", "seikan"), ("工業", "コウギョウ", "kogyo"),
    ),
    "surface_heat": (
        ("鍍金工業", "メッキコウギョウ", "mekki"), ("塗装工業", "トソウコウギョウ", "tosou"),
        ("熱処理工業", "ネツショリコウギョウ", "netsushori"), ("化工", "カコウ", "kako"),
        ("表面処理", "ヒョウメンショリ", "hyomen"),
    ),
    "plastics_rubber": (
        ("化成", "カセイ", "kasei"), ("樹脂工業", "ジュシコウギョウ", "jushi"),
        ("化学工業", "カガクコウギョウ", "kagaku"), ("ゴム工業", "ゴムコウギョウ", "gomu"),
        ("プラスチック", "プラスチック", "plastic"),
    ),
    "electronics": (
        ("電子", "デンシ", "denshi"), ("電機", "デンキ", "denki"), ("電装", "デンソウ", "denso"),
        ("エレクトロニクス", "エレクトロニクス", "electronics"),
    ),
    "software_iot": (
        ("システム", "システム", "system"), ("情報システム", "ジョウホウシステム", "joho"),
        ("ソフトウェア", "ソフトウェア", "software"), ("テクノロジー", "テクノロジー", "tech"),
    ),
    "inspection": (
        ("計測", "ケイソク", "keisoku"), ("検査工業", "ケンサコウギョウ", "kensa"),
        ("精測", "セイソク", "seisoku"),
    ),
    "design_prototyping": (
        ("技研", "ギケン", "giken"), ("設計", "セッケイ", "sekkei"),
        ("モデル", "モデル", "model"), ("デザイン", "デザイン", "design"),
    ),
    "assembly": (
        ("機工", "キコウ", "kiko"), ("技研", "ギケン", "giken"), ("エンジニアリング",
        "エンジニアリング", "engineering"), ("工業", "コウギョウ", "kogyo"),
    ),
}
# Type words that promise a trade: a "鍍金工業" must plate, a "ゴム工業" must mould rubber.
TYPE_IMPLIES: dict[str, tuple[str, ...]] = {
    "鍍金工業": ("surface_heat.plating",),
    "塗装工業": ("surface_heat.painting", "surface_heat.powder_coating"),
    "熱処理工業": ("surface_heat.quenching", "surface_heat.carburizing", "surface_heat.nitriding"),
    "ゴム工業": ("plastics_rubber.rubber",),
    "鋳造所": ("casting_forging.sand_casting", "casting_forging.die_casting",
               "casting_forging.investment_casting"),
    "鋳工": ("casting_forging.sand_casting", "casting_forging.investment_casting"),
    "鋳鋼": ("casting_forging.sand_casting", "casting_forging.investment_casting"),
    "鍛工": ("casting_forging.hot_forging", "casting_forging.cold_forging"),
    "プレス工業": ("sheet_metal.press", "sheet_metal.progressive_die", "sheet_metal.deep_drawing"),
    "金型製作所": ("sheet_metal.die_making",),
    "板金工業": ("sheet_metal.laser_cutting", "sheet_metal.turret_punch", "sheet_metal.bending"),
    "溶接工業": ("joining.tig", "joining.mig_mag", "joining.laser_welding", "joining.spot"),
    "製缶工業": ("joining.structural",),
    "電装": ("electronics.harness", "electronics.control_panel"),
}
# Fields whose members sell services rather than parts (no lot of parts, no IATF).
SERVICE_FIELDS: tuple[str, ...] = ("software_iot", "inspection", "design_prototyping")
ENVIRONMENT_CERTIFICATIONS: tuple[str, ...] = ("iso14001", "ecoaction21", "kes")
# How often each field is a supplier's main trade in a typical regional fair.
FIELD_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("machining", 30), ("sheet_metal", 14), ("casting_forging", 6), ("joining", 8),
    ("surface_heat", 10), ("plastics_rubber", 9), ("electronics", 8), ("software_iot", 4),
    ("inspection", 3), ("design_prototyping", 5), ("assembly", 3),
)
# Technologies a shop of each main field commonly offers besides its own.
SIDE_TECHNOLOGIES: dict[str, tuple[str, ...]] = {
    "machining": (
        "inspection.cmm", "surface_heat.anodizing", "surface_heat.quenching",
        "design_prototyping.cad_cam", "design_prototyping.jig", "plastics_rubber.resin_machining",
        "assembly.unit_assembly",
    ),
    "sheet_metal": (
        "joining.tig", "joining.spot", "joining.mig_mag", "surface_heat.powder_coating",
        "surface_heat.painting", "assembly.unit_assembly", "joining.laser_welding",
    ),
    "casting_forging": (
        "machining.machining_center", "machining.turning", "inspection.non_destructive",
        "inspection.xray_ct", "surface_heat.quenching",
    ),
    "joining": (
        "sheet_metal.laser_cutting", "sheet_metal.bending", "surface_heat.polishing",
        "machining.milling", "assembly.machine_assembly",
    ),
    "surface_heat": (
        "inspection.surface_roughness", "machining.grinding", "inspection.reliability",
    ),
    "plastics_rubber": (
        "sheet_metal.die_making", "design_prototyping.3d_printing", "assembly.cleanroom",
        "surface_heat.painting", "design_prototyping.mechanical_design",
    ),
    "electronics": (
        "software_iot.embedded", "software_iot.plc", "assembly.unit_assembly",
        "inspection.reliability",
    ),
    "software_iot": (
        "electronics.circuit_design", "electronics.pcb_design", "electronics.control_panel",
        "inspection.reliability",
    ),
    "inspection": ("design_prototyping.reverse_engineering", "machining.precision"),
    "design_prototyping": (
        "machining.machining_center", "plastics_rubber.resin_machining", "assembly.labour_saving",
        "inspection.cmm",
    ),
    "assembly": (
        "electronics.harness", "electronics.control_panel", "software_iot.plc",
        "design_prototyping.mechanical_design", "joining.structural",
    ),
}
EQUIPMENT: dict[str, tuple[str, ...]] = {
    "machining.turning": ("NC旋盤 オークマ LB3000 EX II", "CNC旋盤 マザック QUICK TURN 250MSY"),
    "machining.milling": ("立形フライス盤 マキノ KGJ-55", "NCフライス盤 エンシュウ VF-1"),
    "machining.machining_center": (
        "立形マシニングセンタ ブラザー SPEEDIO S700X2", "立形マシニングセンタ マキノ V33i",
        "横形マシニングセンタ オークマ MB-5000H",
    ),
    "machining.5axis": (
        "5軸マシニングセンタ DMG MORI DMU 50", "5軸マシニングセンタ オークマ MU-5000V",
        "5軸加工機 マザック VARIAXIS i-600",
    ),
    "machining.swiss": ("CNC自動盤 シチズン Cincom L20", "CNC自動盤 スター精密 SR-20J"),
    "machining.grinding": ("平面研削盤 岡本工作機械 PSG-64", "円筒研削盤 ジェイテクト G1P"),
    "machining.edm": ("形彫り放電加工機 ソディック AG60L",),
    "machining.wire_edm": (
        "ワイヤー放電加工機 ファナック ROBOCUT α-C400iB", "ワイヤー放電加工機 三菱電機 MV1200R",
    ),
    "machining.gear": ("ホブ盤 カシフジ KN80",),
    "machining.precision": ("微細加工機 ファナック ROBONANO α-NMiA",),
    "sheet_metal.laser_cutting": ("ファイバーレーザー加工機 アマダ ENSIS-3015AJ",),
    "sheet_metal.turret_punch": ("タレットパンチプレス アマダ EMZ-3510NT",),
    "sheet_metal.bending": ("ベンディングマシン アマダ HG-1303",),
    "sheet_metal.press": ("サーボプレス コマツ H1F110", "プレス機 アイダ NC1-200"),
    "sheet_metal.progressive_die": ("順送プレスライン 200t",),
    "joining.tig": ("TIG溶接機 ダイヘン DA300P",),
    "joining.mig_mag": ("溶接ロボット 安川電機 MOTOMAN-AR1440",),
    "joining.laser_welding": ("ファイバーレーザー溶接機 アマダ FLW-3015ENSIS",),
    "plastics_rubber.injection": (
        "射出成形機 日精樹脂工業 NEX110", "射出成形機 ファナック ROBOSHOT α-S100iA",
        "射出成形機 東洋機械金属 Si-180V",
    ),
    "electronics.pcb_assembly": ("チップマウンタ FUJI NXT III", "チップマウンタ ヤマハ YSM20"),
    "inspection.cmm": ("三次元測定機 ミツトヨ CRYSTA-Apex V", "三次元測定機 ZEISS CONTURA"),
    "inspection.surface_roughness": ("形状測定機 キーエンス VR-6000",),
    "inspection.xray_ct": ("産業用X線CT装置 225kV",),
    "design_prototyping.3d_printing": (
        "3Dプリンタ Stratasys F370", "光造形3Dプリンタ Formlabs Form 3",
    ),
    "design_prototyping.cad_cam": ("CAD/CAM hyperMILL", "3次元CAD SOLIDWORKS"),
}
MATERIALS: dict[str, tuple[str, ...]] = {
    "machining": ("アルミ（A5052・A7075）", "SUS304", "S45C", "SCM440", "真鍮（C3604）",
                  "チタン合金", "樹脂（POM・PEEK）", "インコネル"),
    "sheet_metal": ("SPCC", "SECC", "SUS304", "アルミ（A5052）", "亜鉛めっき鋼板", "SPHC"),
    "casting_forging": ("FC250", "FCD450", "ADC12", "SCS13", "S45C", "SCM420"),
    "joining": ("SS400", "SUS304", "SUS316L", "アルミ（A5083）"),
    "surface_heat": ("鉄鋼全般", "アルミ", "ステンレス", "銅合金", "SKD11"),
    "plastics_rubber": ("PP", "ABS", "PC", "PA66+GF30", "POM", "EPDM", "シリコーンゴム"),
    "electronics": ("FR-4", "フレキシブル基板", "アルミ基板"),
    "software_iot": (),
    "inspection": (),
    "design_prototyping": ("ABSライク樹脂", "PA12", "アルミ", "ケミカルウッド"),
    "assembly": ("SS400", "アルミフレーム"),
}
STRENGTHS: dict[str, tuple[str, ...]] = {
    "machining": ("±0.005mmの高精度加工", "チタン・インコネルなど難削材の加工実績",
                  "5軸加工による工程集約で短納期化", "夜間無人運転によるコスト低減"),
    "sheet_metal": ("レーザー切断から曲げ・溶接・塗装まで一貫生産",
                    "現物・手書き図面からの製作にも対応", "金型レスでの小ロット対応"),
    "casting_forging": ("木型・金型から一貫対応", "大物鋳物（最大2t）の鋳造実績",
                        "鋳造シミュレーションによる不良低減"),
    "joining": ("JIS溶接技能者が多数在籍", "歪みの少ない薄板溶接", "大型製缶品の製作実績"),
    "surface_heat": ("RoHS・REACH対応の処理", "自社試験室での膜厚・硬度測定",
                     "最短翌日の短納期処理"),
    "plastics_rubber": ("金型設計から成形・組立まで一貫対応",
                        "エンプラ・スーパーエンプラの成形実績", "クリーンルーム成形に対応"),
    "electronics": ("部品調達から実装・検査まで一括対応", "1枚からの試作実装に対応",
                    "EMC対策の設計支援"),
    "software_iot": ("製造現場を知るエンジニアによる提案", "既存設備への後付けIoT化",
                     "補助金活用のご相談にも対応"),
    "inspection": ("校正済み測定機による測定成績書の発行", "非破壊での内部欠陥の可視化",
                   "最短即日の測定対応"),
    "design_prototyping": ("構想段階からの設計提案", "最短2日での試作品納入",
                           "3Dデータがなくても現物・手書き図から対応"),
    "assembly": ("設計から組立・据付まで一貫対応", "クリーンルーム（クラス10,000）完備",
                 "電気・機械の両方に対応できる技術者"),
}
GENERAL_STRENGTHS: tuple[str, ...] = (
    "多品種少量生産に強み", "設計段階からのVA/VE提案", "三次元測定機による品質保証",
    "地域の協力会社ネットワークによる一貫対応", "短納期・特急対応",
    "材料調達から表面処理まで一括手配",
)
MARKETS: tuple[str, ...] = (
    "自動車", "二輪", "航空機", "医療機器", "産業機械", "半導体製造装置", "食品機械", "家電",
    "楽器", "住宅設備", "ロボット",
)
HOST_CITIES: tuple[tuple[str, int], ...] = (
    ("浜松市", 30), ("静岡市", 20), ("磐田市", 8), ("富士市", 8), ("沼津市", 6), ("掛川市", 5),
    ("湖西市", 4), ("袋井市", 4), ("藤枝市", 4), ("焼津市", 4), ("島田市", 3), ("三島市", 3),
    ("富士宮市", 3), ("菊川市", 2), ("裾野市", 2), ("御殿場市", 2), ("牧之原市", 2),
)
NEIGHBOUR_CITIES: tuple[tuple[str, str], ...] = (
    ("愛知県", "豊橋市"), ("愛知県", "豊川市"), ("愛知県", "岡崎市"), ("愛知県", "名古屋市"),
    ("神奈川県", "小田原市"), ("神奈川県", "厚木市"), ("山梨県", "甲府市"), ("長野県", "飯田市"),
)
BUYER_HEADQUARTERS: tuple[tuple[str, str], ...] = (
    ("東京都", "港区"), ("東京都", "千代田区"), ("愛知県", "刈谷市"), ("神奈川県", "横浜市"),
)
TIMINGS: tuple[str, ...] = (
    "2027年4月〜", "2027年度上期", "2027年6月量産立上げ", "随時", "即時", "2027年秋頃",
)
SUPPLIER_TITLES: tuple[str, ...] = (
    "代表取締役", "専務取締役", "営業部長", "営業課長", "技術課長", "営業担当",
)


@dataclass(frozen=True)
class NeedTemplate:
    """A typical 発注ニーズ: what a buyer wants made and by which technologies."""

    title: str
    technologies: tuple[str, ...]
    materials: tuple[str, ...]
    lot_sizes: tuple[str, ...]
    description: str


NEEDS: dict[str, NeedTemplate] = {
    "alu_housing_5axis": NeedTemplate(
        "アルミ筐体の試作加工（5軸）",
        ("machining.5axis", "machining.machining_center", "surface_heat.anodizing"),
        ("A5052", "A7075"), ("prototype", "small_lot"),
        "新製品の筐体を5軸加工で試作したい。アルマイト処理まで一貫で対応いただける企業を希望します。"),
    "shaft_turning": NeedTemplate(
        "シャフト・ピン類の旋盤加工（量産）",
        ("machining.turning", "machining.swiss", "machining.grinding", "surface_heat.quenching"),
        ("S45C", "SCM440", "SUS303"), ("mass",),
        "φ5〜φ40のシャフト類、月産1,000〜5,000個。焼入れ・研削まで対応できる企業を探しています。"),
    "sheet_cover": NeedTemplate(
        "装置カバー・架台の板金加工",
        ("sheet_metal.laser_cutting", "sheet_metal.bending", "joining.tig",
         "surface_heat.powder_coating"),
        ("SPCC", "SUS304"), ("small_lot",),
        "生産設備用の安全カバーと架台。溶接・粉体塗装まで一括で依頼したい。"),
    "press_bracket": NeedTemplate(
        "ブラケット類のプレス加工（順送）",
        ("sheet_metal.press", "sheet_metal.progressive_die", "sheet_metal.die_making"),
        ("SPHC", "SAPH440", "SUS430"), ("mass",),
        "車載用ブラケット。金型製作からの対応で月産2万個程度を想定しています。"),
    "die_cast_case": NeedTemplate(
        "アルミダイカスト部品と後加工",
        ("casting_forging.die_casting", "machining.machining_center", "surface_heat.painting"),
        ("ADC12",), ("mass",),
        "ケース部品のダイカストから機械加工・塗装までの一貫対応先を探しています。"),
    "casting_base": NeedTemplate(
        "鋳物ベースの鋳造・機械加工",
        ("casting_forging.sand_casting", "machining.milling", "inspection.cmm"),
        ("FC250", "FCD450"), ("small_lot",),
        "工作機械用ベース（100kg前後）。木型からの対応を希望します。"),
    "forging_gear": NeedTemplate(
        "鍛造ギヤブランクと歯切り加工",
        ("casting_forging.hot_forging", "machining.gear", "surface_heat.carburizing"),
        ("SCM420", "SCr420"), ("mass",),
        "減速機用ギヤ。鍛造・歯切り・浸炭焼入れまでまとめて依頼できる先を希望。"),
    "plating_zinc": NeedTemplate(
        "亜鉛めっき・三価クロメート処理",
        ("surface_heat.plating",), ("SPCC", "S45C"), ("mass",),
        "環境規制に対応した三価クロメート処理。RoHS対応の証明書を提出いただける方。"),
    "heat_treat": NeedTemplate(
        "焼入れ・窒化処理の外注先",
        ("surface_heat.quenching", "surface_heat.nitriding"), ("SKD11", "SCM440"),
        ("small_lot", "mass"),
        "金型部品・シャフトの熱処理。硬度測定の成績書添付をお願いします。"),
    "injection_cover": NeedTemplate(
        "樹脂カバーの射出成形（金型込み）",
        ("plastics_rubber.injection", "sheet_metal.die_making"), ("ABS", "PC/ABS"), ("mass",),
        "外装カバーの金型製作と成形。月産5,000ショット程度。"),
    "blow_tank": NeedTemplate(
        "樹脂タンクのブロー成形", ("plastics_rubber.blow",), ("HDPE", "PP"), ("mass",),
        "燃料・冷却水用タンク。既存金型の移管も検討しています。"),
    "rubber_seal": NeedTemplate(
        "ゴムパッキン・シール部品の成形", ("plastics_rubber.rubber",),
        ("EPDM", "シリコーンゴム", "NBR"), ("small_lot", "mass"),
        "防水パッキンの新規調達先。耐熱・耐薬品の材料提案も歓迎します。"),
    "pcb_assembly": NeedTemplate(
        "制御基板の実装（小ロット）",
        ("electronics.pcb_assembly", "electronics.pcb_design"), ("FR-4",), ("small_lot",),
        "試作〜月100枚程度の基板実装。部品調達の代行も希望します。"),
    "harness": NeedTemplate(
        "ワイヤーハーネスの加工・組立",
        ("electronics.harness", "assembly.unit_assembly"), ("UL電線",), ("small_lot", "mass"),
        "装置内配線用ハーネス。圧着・導通検査まで対応いただける企業。"),
    "control_panel": NeedTemplate(
        "制御盤の設計・製作",
        ("electronics.control_panel", "software_iot.plc", "electronics.circuit_design"), (),
        ("small_lot",), "専用機の制御盤。設計から製作、PLCプログラムまで相談したい。"),
    "iot_monitoring": NeedTemplate(
        "設備稼働監視のIoT化",
        ("software_iot.iot", "software_iot.production_system", "electronics.circuit_design"), (),
        ("prototype",),
        "既存設備の稼働データを収集し見える化したい。センサー選定から相談できる企業を希望。"),
    "image_inspection": NeedTemplate(
        "外観検査の自動化（画像処理）",
        ("software_iot.image_processing", "assembly.labour_saving"), (), ("prototype",),
        "目視検査の自動化を検討中。画像処理の実機評価から依頼したい。"),
    "cmm_service": NeedTemplate(
        "三次元測定・検査の外注",
        ("inspection.cmm", "inspection.surface_roughness"), (), ("small_lot",),
        "試作品の形状測定と成績書作成。繁忙期の検査能力を補いたい。"),
    "ct_inspection": NeedTemplate(
        "鋳造品のX線CT検査",
        ("inspection.xray_ct", "inspection.non_destructive"), ("ADC12", "AC4C"), ("small_lot",),
        "鋳巣の評価のためのCT撮影と解析レポート。"),
    "3d_prototype": NeedTemplate(
        "樹脂部品の3Dプリンタ試作",
        ("design_prototyping.3d_printing", "design_prototyping.rapid_prototyping",
         "plastics_rubber.resin_machining"),
        ("PA12", "ABSライク樹脂"), ("prototype",),
        "デザイン検討用の試作品。1週間以内の納品を希望します。"),
    "jig": NeedTemplate(
        "検査治具・組立治具の設計製作",
        ("design_prototyping.jig", "design_prototyping.mechanical_design", "machining.milling"),
        ("A5052", "POM"), ("prototype", "small_lot"),
        "ライン増設に伴う治具一式。設計から任せられる企業を探しています。"),
    "labour_saving": NeedTemplate(
        "省力化装置の設計・製作",
        ("assembly.labour_saving", "design_prototyping.mechanical_design",
         "electronics.control_panel", "software_iot.plc"),
        (), ("prototype",), "組立工程の搬送・位置決めを自動化したい。構想段階から相談可能な方。"),
    "stainless_welding": NeedTemplate(
        "ステンレス製缶・溶接構造物",
        ("joining.structural", "joining.tig", "surface_heat.polishing"), ("SUS304", "SUS316L"),
        ("small_lot",), "食品機械用のフレームとタンク。溶接後の研磨仕上げまで依頼したい。"),
    "laser_welding": NeedTemplate(
        "精密部品のレーザー溶接",
        ("joining.laser_welding", "sheet_metal.deep_drawing"), ("SUS304", "純ニッケル"),
        ("small_lot", "mass"), "薄板ケースの気密溶接。溶接条件の検討から協力いただける企業。"),
    "titanium_medical": NeedTemplate(
        "チタン製医療機器部品の精密加工",
        ("machining.swiss", "machining.precision", "surface_heat.anodizing"),
        ("Ti-6Al-4V", "純チタン"), ("small_lot",),
        "整形外科向けインプラント部品。ISO 13485を取得済み、または取得予定の企業を希望。"),
    "aero_5axis": NeedTemplate(
        "航空機部品の5軸加工",
        ("machining.5axis", "inspection.cmm", "inspection.non_destructive"),
        ("A7075", "Ti-6Al-4V"), ("small_lot",),
        "機体構造部品。JIS Q 9100認証をお持ちの企業を優先します。"),
    "edm_mold": NeedTemplate(
        "金型部品の放電・ワイヤー加工",
        ("machining.edm", "machining.wire_edm", "machining.grinding"), ("SKD11", "SKD61", "超硬"),
        ("prototype", "small_lot"), "プレス金型・成形金型の入子。公差±0.003mm。"),
    "machine_assembly": NeedTemplate(
        "装置ユニットの組立外注",
        ("assembly.machine_assembly", "assembly.unit_assembly", "electronics.harness"), (),
        ("small_lot",), "自社装置のサブユニット組立と配線。繁忙期の生産能力を確保したい。"),
    "cleanroom_assembly": NeedTemplate(
        "クリーンルームでの組立・梱包",
        ("assembly.cleanroom", "plastics_rubber.injection"), ("PC", "COP"), ("mass",),
        "ディスポ製品の成形・組立・クリーン梱包を一貫で依頼したい。"),
    "embedded": NeedTemplate(
        "組込みソフトウェア開発（マイコン制御）",
        ("software_iot.embedded", "electronics.circuit_design"), (), ("prototype",),
        "モーター制御基板のファームウェア開発。"),
    "resin_machining": NeedTemplate(
        "エンジニアリングプラスチックの切削加工",
        ("plastics_rubber.resin_machining", "machining.machining_center"),
        ("PEEK", "POM", "PTFE"), ("small_lot",), "装置部品の樹脂化に伴う切削加工品。"),
    "painting": NeedTemplate(
        "筐体の焼付塗装・シルク印刷",
        ("surface_heat.painting", "surface_heat.powder_coating"), ("SPCC", "アルミ"),
        ("small_lot", "mass"), "製品外装の塗装。色合わせと外観品質の管理をお願いします。"),
    "spinning": NeedTemplate(
        "へら絞り品の試作", ("sheet_metal.spinning", "joining.tig"), ("SUS304", "アルミ"),
        ("prototype",), "円錐形カバーの試作。数個から対応いただける企業。"),
    "cold_forging": NeedTemplate(
        "冷間鍛造による特殊ボルト",
        ("casting_forging.cold_forging", "surface_heat.plating"), ("SWCH", "SCM435"), ("mass",),
        "特殊形状ボルトの新規調達。めっきまでの一貫対応を希望。"),
    "reverse": NeedTemplate(
        "旧型部品のリバースエンジニアリング",
        ("design_prototyping.reverse_engineering", "design_prototyping.cad_cam",
         "machining.machining_center"),
        (), ("prototype",), "図面のない補修部品を現物から再製作したい。"),
    "coating": NeedTemplate(
        "金型・工具へのDLCコーティング", ("surface_heat.coating",), ("SKD11", "超硬"),
        ("small_lot",), "離型性と耐摩耗性の改善。試験処理から相談したい。"),
    "fsw": NeedTemplate(
        "アルミ冷却板の摩擦攪拌接合",
        ("joining.friction_stir", "machining.milling"), ("A6063",), ("prototype", "small_lot"),
        "EVインバーター用の水冷プレート。気密試験まで対応いただける企業。"),
}


@dataclass(frozen=True)
class Sector:
    """A kind of buyer: what it makes, what its company names look like, what it needs."""

    industry: str
    products: tuple[str, ...]
    name_words: tuple[Word, ...]
    departments: tuple[str, ...]
    certifications: tuple[str, ...]
    needs: tuple[str, ...]


SECTORS: tuple[Sector, ...] = (
    Sector("輸送用機械器具製造業", ("自動車用駆動系部品", "ブレーキ部品", "車載電装部品"),
           (("精機工業", "セイキコウギョウ", "seiki"),
            ("自動車部品", "ジドウシャブヒン", "autoparts"), ("発條", "ハツジョウ", "hatsujo")),
           ("調達部", "購買部 資材調達課", "生産技術部"), ("iatf16949",),
           ("press_bracket", "shaft_turning", "die_cast_case", "forging_gear", "plating_zinc",
            "injection_cover", "rubber_seal", "harness", "cold_forging", "fsw")),
    Sector("電気機械器具製造業", ("産業用モーター", "配電制御機器", "業務用空調機器"),
           (("電機", "デンキ", "denki"), ("電機製作所", "デンキセイサクショ", "denki-ss"),
            ("電気工業", "デンキコウギョウ", "denki-kogyo")),
           ("調達部", "開発部", "生産技術部"), (),
           ("sheet_cover", "pcb_assembly", "harness", "injection_cover", "painting",
            "press_bracket", "embedded", "laser_welding")),
    Sector("生産用機械器具製造業", ("工作機械", "産業用ロボット", "包装機械"),
           (("機械", "キカイ", "kikai"), ("工機", "コウキ", "koki"), ("精機", "セイキ", "seiki")),
           ("調達部", "生産技術部", "開発部"), (),
           ("casting_base", "shaft_turning", "sheet_cover", "control_panel", "labour_saving",
            "edm_mold", "heat_treat", "machine_assembly", "jig", "coating")),
    Sector("業務用機械器具製造業（医療機器）", ("整形外科用インプラント", "医療用分析装置"),
           (("医科工業", "イカコウギョウ", "ika"), ("メディカル", "メディカル", "medical")),
           ("調達部", "開発部", "品質保証部"), ("iso13485",),
           ("titanium_medical", "resin_machining", "cleanroom_assembly", "pcb_assembly",
            "3d_prototype", "alu_housing_5axis")),
    Sector("輸送用機械器具製造業（航空機部品）", ("航空機構造部品", "航空エンジン部品"),
           (("航空機器", "コウクウキキ", "aero"), ("重工業", "ジュウコウギョウ", "heavy")),
           ("調達部", "生産技術部"), ("jisq9100",),
           ("aero_5axis", "ct_inspection", "heat_treat", "cmm_service", "laser_welding", "fsw")),
    Sector("はん用機械器具製造業（食品機械）", ("食品加工機械", "自動包装機"),
           (("食品機械", "ショクヒンキカイ", "foodmachine"), ("製作所", "セイサクショ", "ss")),
           ("購買部", "開発部", "生産技術部"), (),
           ("stainless_welding", "sheet_cover", "labour_saving", "iot_monitoring", "rubber_seal",
            "resin_machining")),
    Sector("業務用機械器具製造業（光学・計測）", ("光学機器", "計測機器", "電子楽器"),
           (("光学", "コウガク", "kogaku"), ("計器", "ケイキ", "keiki"),
            ("楽器", "ガッキ", "gakki")),
           ("開発部", "調達部", "生産技術部"), (),
           ("alu_housing_5axis", "painting", "spinning", "3d_prototype", "reverse", "cmm_service",
            "pcb_assembly")),
    Sector("輸送用機械器具製造業（二輪・船外機）", ("二輪車用エンジン部品", "船外機部品"),
           (("発動機", "ハツドウキ", "hatsudoki"), ("モーター", "モーター", "motor")),
           ("調達部", "購買部", "生産技術部"), ("iso14001",),
           ("die_cast_case", "casting_base", "fsw", "blow_tank", "shaft_turning", "ct_inspection")),
    Sector("電子部品・デバイス製造業（半導体製造装置）", ("半導体製造装置", "真空機器"),
           (("テクノロジーズ", "テクノロジーズ", "tech"),
            ("電子工業", "デンシコウギョウ", "denshi")),
           ("調達部", "開発部"), (),
           ("alu_housing_5axis", "cleanroom_assembly", "machine_assembly", "resin_machining",
            "laser_welding", "control_panel")),
    Sector("生産用機械器具製造業（FA・ロボット）", ("FA機器", "協働ロボット"),
           (("ロボティクス", "ロボティクス", "robotics"),
            ("オートメーション", "オートメーション", "automation")),
           ("開発部", "生産技術部", "調達部"), (),
           ("jig", "labour_saving", "embedded", "iot_monitoring", "image_inspection", "harness",
            "machine_assembly")),
)
BUYER_TITLES: dict[str, tuple[str, ...]] = {
    "調達部": ("調達部 課長", "調達部 主任", "調達部 係長"),
    "購買部": ("購買部 課長", "購買部 担当"),
    "購買部 資材調達課": ("資材調達課 課長", "資材調達課 担当"),
    "生産技術部": ("生産技術部 部長", "生産技術部 主任技師"),
    "開発部": ("開発部 課長", "開発部 主任研究員"),
    "品質保証部": ("品質保証部 課長",),
}


# ------------------------------------------------------------------------ helpers
def _weighted_sample(rng: random.Random, items: Sequence[int], weights: Sequence[float],
                     k: int) -> list[int]:
    """k distinct items, each drawn with probability proportional to its weight.

    Efraimidis–Spirakis keys: one random number per item, so the draw is reproducible
    and needs no rejection loop.
    """
    keyed = [(rng.random() ** (1.0 / w), item) for item, w in zip(items, weights, strict=True)
             if w > 0]
    keyed.sort(reverse=True)
    return [item for _, item in keyed[:k]]


def _in_vocabulary_order(codes: Sequence[str]) -> list[str]:
    """Distinct codes in the order of the vocabulary, so profiles read field by field."""
    wanted = dict.fromkeys(codes)
    return [code for code in TECHNOLOGIES if code in wanted]


class _Names:
    """Hands out company names, domains and e-mail addresses that are unique in one fair."""

    def __init__(self) -> None:
        self.keys: dict[str, None] = {}
        self.domains: dict[str, None] = {}
        self.emails: dict[str, None] = {}

    def company(self, rng: random.Random, stems: Sequence[Word],
                types: Sequence[Word]) -> tuple[str, str, str]:
        """A new (name without legal form, kana, domain label)."""
        for attempt in range(400):
            stem = rng.choice(stems)
            if attempt >= 40:  # the simple combinations are used up: combine two stems
                extra = rng.choice(PLACE_STEMS)
                stem = (extra[0] + stem[0], extra[1] + stem[1], f"{extra[2]}{stem[2]}")
            kind = rng.choice(types)
            name = stem[0] + kind[0]
            key = company_name_key(name)
            if key not in self.keys:
                self.keys[key] = None
                return name, stem[1] + kind[1], self.domain(f"{stem[2]}-{kind[2]}")
        raise ValidationFailed(
            N_("The demo name lists ran out after %(count)s companies: ask for fewer buyers "
               "and suppliers."),
            params={"count": len(self.keys)},
        )

    def domain(self, label: str) -> str:
        candidate, number = f"{label}.example.jp", 1
        while candidate in self.domains:
            number += 1
            candidate = f"{label}{number}.example.jp"
        self.domains[candidate] = None
        return candidate

    def email(self, local: str, domain: str) -> str:
        candidate, number = f"{local}@{domain}", 1
        while candidate in self.emails:
            number += 1
            candidate = f"{local}{number}@{domain}"
        self.emails[candidate] = None
        return candidate


def _slot_times(day: date, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The meeting grid of one day: 25-minute meetings every 30 minutes, none over lunch."""
    lunch_start = datetime.combine(day, time.fromisoformat(LUNCH["start"]), tz)
    lunch_end = datetime.combine(day, time.fromisoformat(LUNCH["end"]), tz)
    end = datetime.combine(day, DAY_END, tz)
    length, step = timedelta(minutes=MEETING_MINUTES), timedelta(minutes=CHANGEOVER_MINUTES)
    times, start = [], datetime.combine(day, DAY_START, tz)
    while start + length <= end:
        if start < lunch_end and start + length > lunch_start:
            start = lunch_end
            continue
        times.append((start.astimezone(UTC), (start + length).astimezone(UTC)))
        start += length + step
    return times


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), ZoneInfo(TIMEZONE)).astimezone(UTC)


def _phase_deadlines(day: date) -> list[PhaseDeadline]:
    """A realistic calendar counted back from the fair day (registration ~3 months ahead).

    Office phases open at 9:00 and close at 17:00 local time; the day itself runs from
    the 9:00 reception to 17:30, when the fair closes.
    """

    def office(days_before: int, hour: int) -> datetime:
        return _local(day - timedelta(days=days_before), hour)

    windows = (
        (Phase.REGISTRATION, office(93, 9), office(40, 17)),
        (Phase.PREFERENCES, office(36, 9), office(26, 17)),
        (Phase.SCHEDULING, office(23, 9), office(15, 17)),
        (Phase.PUBLISHED, office(14, 9), _local(day, 9)),
        (Phase.ON_THE_DAY, _local(day, 9), _local(day, 17, 30)),
        (Phase.CLOSED, _local(day, 17, 30), None),
    )
    return [PhaseDeadline(phase=phase.value, opens_at=opens, closes_at=closes, sort_order=order)
            for order, (phase, opens, closes) in enumerate(windows)]


def _city(rng: random.Random, *, neighbour_share: float) -> tuple[str, str]:
    if rng.random() < neighbour_share:
        return rng.choice(NEIGHBOUR_CITIES)
    cities, weights = zip(*HOST_CITIES, strict=True)
    return HOST_PREFECTURE, rng.choices(cities, weights)[0]


def _people(rng: random.Random, names: _Names, organization: Organization, domain: str,
            titles: Sequence[str], count: int) -> list[Person]:
    people = []
    for _ in range(count):
        surname, given = rng.choice(SURNAMES), rng.choice(GIVEN_NAMES)
        people.append(Person(
            organization=organization, name=f"{surname[0]} {given[0]}",
            name_kana=f"{surname[1]} {given[1]}", title=rng.choice(titles),
            email=names.email(f"{given[2]}.{surname[2]}", domain),
        ))
    return people


def _lot_phrase(lots: Sequence[str]) -> str:
    if lots == ["prototype"]:
        return "試作1個から"
    if "prototype" in lots and "mass" in lots:
        return "試作から量産まで"
    if "prototype" in lots:
        return "試作・小ロットで"
    if "small_lot" in lots and "mass" in lots:
        return "小ロットから量産まで"
    return "量産で" if "mass" in lots else "小ロットで"


# ---------------------------------------------------------------- participants
@dataclass
class _Buyer:
    participant: Participant
    need_technologies: list[str]
    needs: list[Need]

    def __post_init__(self) -> None:
        # Sets only for counting overlaps (never iterated: their order varies per process).
        self.technology_set = frozenset(self.need_technologies)
        self.field_set = frozenset(code.split(".", 1)[0] for code in self.need_technologies)


@dataclass
class _Supplier:
    participant: Participant
    technologies: list[str]

    def __post_init__(self) -> None:
        self.technology_set = frozenset(self.technologies)
        self.field_set = frozenset(code.split(".", 1)[0] for code in self.technologies)


def _make_buyer(rng: random.Random, names: _Names, event: Event, number: int,
                desks: int) -> _Buyer:
    sector = rng.choice(SECTORS)
    base, kana, domain = names.company(rng, BUYER_PREFIXES, sector.name_words)
    prefecture, city = (rng.choice(BUYER_HEADQUARTERS) if rng.random() < 0.15
                        else _city(rng, neighbour_share=0.1))
    need_keys = rng.sample(sector.needs, k=min(len(sector.needs), rng.choice((1, 2, 2, 3, 3))))
    needs = []
    for key in need_keys:
        template = NEEDS[key]
        needs.append(Need(
            title=template.title, technologies=list(template.technologies),
            material="、".join(rng.sample(template.materials, k=min(2, len(template.materials)))),
            lot_size=rng.choice(template.lot_sizes), timing=rng.choice(TIMINGS),
            description=template.description,
        ))
    sought = _in_vocabulary_order([c for n in needs for c in n.technologies])
    field_labels = list(dict.fromkeys(field_of(c).ja for c in sought if field_of(c)))
    product = rng.choice(sector.products)
    employees = rng.choice((320, 450, 680, 850, 1200, 1800, 2400, 3600, 5200))
    organization = Organization(
        name=f"{base}株式会社", name_kana=kana, name_key=company_name_key(base),
        prefecture=prefecture, city=city, industry=sector.industry, employees=employees,
        website=f"https://www.{domain}/",
        description=(f"{product}などを製造するメーカーです。"
                     f"{city}の本社工場を中心に国内{rng.randint(2, 6)}拠点で生産しています。"
                     "地域のものづくり企業との新たな取引先開拓を進めています。"),
        strengths="", technologies=[], tags=[],
        equipment="", materials="",
        # Once each: a sector's list may name ISO 14001 too.
        certifications=list(dict.fromkeys(["iso9001", "iso14001", *sector.certifications])),
        lot_sizes=[lot.code for lot in LOT_SIZES if any(n.lot_size == lot.code for n in needs)],
        what_we_buy=f"{'、'.join(field_labels)}に対応できる協力企業を募集しています。",
    )
    department = rng.choice(sector.departments)
    titles = BUYER_TITLES[department]
    people = _people(rng, names, organization, domain, titles,
                     desks if desks > 1 else rng.choice((1, 1, 2)))
    participant = Participant(
        event=event, organization=organization, role=ParticipantRole.BUYER.value,
        code=f"B{number:03d}", department=department, parallel_desks=desks,
        max_meetings=rng.randint(8, 10) * desks, needs=needs,
        attendances=[Attendance(person=p, is_contact=i == 0) for i, p in enumerate(people)],
    )
    return _Buyer(participant, sought, needs)


def _supplier_technologies(rng: random.Random) -> tuple[str, list[str], list[str]]:
    """A main field, 2–5 technologies clustered around it, and the main ones first."""
    fields, weights = zip(*FIELD_WEIGHTS, strict=True)
    main = rng.choices(fields, weights)[0]
    own = [code for code in TECHNOLOGIES if code.startswith(f"{main}.")]
    total = rng.randint(2, 5)
    from_main = min(rng.randint(1, 3), total, len(own))
    core = _in_vocabulary_order(rng.sample(own, k=from_main))
    side = [c for c in SIDE_TECHNOLOGIES[main] if c not in core]
    chosen = core + rng.sample(side, k=min(total - from_main, len(side)))
    return main, _in_vocabulary_order(chosen), core


def _supplier_type(core: Sequence[str], main: str) -> tuple[Word, ...]:
    """Company-type words that fit what the shop mainly does (a 鍍金工業 plates)."""
    fitting = tuple(word for word in SUPPLIER_TYPES[main]
                    if not TYPE_IMPLIES.get(word[0])
                    or any(code in TYPE_IMPLIES[word[0]] for code in core))
    return fitting or SUPPLIER_TYPES[main]


def _supplier_description(rng: random.Random, main: str, core: Sequence[str], city: str,
                          markets: Sequence[str], lots: Sequence[str],
                          certifications: Sequence[str]) -> str:
    founded = rng.randint(1985, 2018) if main in SERVICE_FIELDS else rng.randint(1948, 2012)
    trade = "・".join(technology_label(code) for code in core[:2])
    served = "・".join(markets)
    if main == "software_iot":
        what = f"{served}分野のお客様の開発・生産現場をソフトウェアで支えています。"
    elif main == "inspection":
        what = f"{served}分野の部品メーカーの品質保証を支援しています。"
    elif main == "design_prototyping":
        what = f"{served}分野の製品開発を構想・試作段階から支援しています。"
    elif main == "assembly":
        what = f"{served}分野の装置・ユニットを{_lot_phrase(lots)}製作しています。"
    else:
        what = f"{served}分野の部品を{_lot_phrase(lots)}製造しています。"
    text = f"{founded}年創業。{city}を拠点に{trade}を手がけ、{what}"
    if certifications:
        strongest = certifications[-1]
        aim = ("環境負荷の低減に取り組んでいます。" if strongest in ENVIRONMENT_CERTIFICATIONS
               else "品質保証体制を整えています。")
        text += f"{certification_label(strongest)}を取得し、{aim}"
    return text


def _make_supplier(rng: random.Random, names: _Names, event: Event, number: int) -> _Supplier:
    main, technologies, core = _supplier_technologies(rng)
    stems = SURNAMES if rng.random() < 0.6 else PLACE_STEMS
    base, kana, domain = names.company(rng, stems, _supplier_type(core, main))
    form = rng.random()
    if form < 0.5:
        name = f"株式会社{base}"
    elif form < 0.72:
        name = f"{base}株式会社"
    elif form < 0.95:
        name = f"有限会社{base}"
    else:
        name = f"合同会社{base}"
    prefecture, city = _city(rng, neighbour_share=0.12)
    employees = round(math.exp(rng.uniform(math.log(4), math.log(250))))
    markets = rng.sample(MARKETS, k=rng.randint(1, 3))
    if main in SERVICE_FIELDS:
        lots = ["prototype", "small_lot"]
    else:
        lots = rng.choice((["prototype", "small_lot"], ["small_lot", "mass"],
                           ["prototype", "small_lot", "mass"], ["small_lot"], ["mass"]))
    certifications = []
    if rng.random() < min(0.85, 0.2 + employees / 300):
        certifications.append("iso9001")
    if rng.random() < 0.15:
        certifications.append("iso14001")
    elif rng.random() < 0.12:
        certifications.append("ecoaction21")
    if main in SERVICE_FIELDS:
        if rng.random() < 0.2:
            certifications.append("iso27001")
    else:  # sector certifications only where the shop makes parts for that sector
        for market, code, share in (("自動車", "iatf16949", 0.25), ("航空機", "jisq9100", 0.35),
                                    ("医療機器", "iso13485", 0.35)):
            if market in markets and rng.random() < share:
                certifications.append(code)
    equipment = []
    for code in technologies:
        if code in EQUIPMENT:
            count = rng.choice((1, 1, 1, 2, 2, 3, 4))
            equipment.append(rng.choice(EQUIPMENT[code]) + (f" ×{count}" if count > 1 else ""))
    materials = MATERIALS[main]
    pool = list(STRENGTHS[main])
    if main not in SERVICE_FIELDS:  # the general ones speak of making parts
        pool += GENERAL_STRENGTHS
    organization = Organization(
        name=name, name_kana=kana, name_key=company_name_key(name), prefecture=prefecture,
        city=city, industry=next(f.ja for f in FIELDS if f.code == main),
        employees=employees, website=f"https://www.{domain}/",
        description=_supplier_description(rng, main, core, city, markets, lots, certifications),
        strengths="。".join(rng.sample(pool, k=rng.randint(2, 3))) + "。",
        technologies=technologies, tags=markets, equipment="\n".join(equipment),
        materials="、".join(rng.sample(materials, k=min(len(materials), rng.randint(2, 4)))),
        certifications=certifications, lot_sizes=lots,
    )
    people = _people(rng, names, organization, domain, SUPPLIER_TITLES, rng.choice((1, 1, 1, 2)))
    participant = Participant(
        event=event, organization=organization, role=ParticipantRole.SUPPLIER.value,
        code=f"S{number:03d}", department="営業部" if employees > 50 else "",
        attendances=[Attendance(person=p, is_contact=i == 0) for i, p in enumerate(people)],
    )
    return _Supplier(participant, technologies)


def _availability(rng: random.Random, participants: Sequence[Participant], day: date,
                  slots: Sequence[Slot]) -> None:
    """Late arrivals, early departures and a few blocked slots, as on a real fair day."""
    for participant in participants:
        if rng.random() < LATE_OR_EARLY_SHARE:
            if rng.random() < 0.5:
                hour = rng.choice((11, 13))
                participant.available_from = _local(day, hour)
                participant.notes = f"{hour}時から参加"
            else:
                hour = rng.choice((14, 15))
                participant.available_until = _local(day, hour)
                participant.notes = f"{hour}時に退出予定"
        elif rng.random() < 0.05:
            participant.unavailable_slots = sorted(rng.sample(list(slots), k=rng.randint(1, 2)),
                                                   key=lambda s: s.starts_at)
            participant.notes = "社内会議のため一部の時間帯は不可"


def _tables(event: Event, buyers: Sequence[_Buyer]) -> list[Room]:
    """Rooms of 24 tables (A01…, C01…); every buyer sits at its own table(s), plus spares."""
    hosts = [b.participant for b in buyers for _ in range(b.participant.parallel_desks)]
    hosts_and_spares: list[Participant | None] = [*hosts, *([None] * SPARE_TABLES)]
    room_names = ["大会議室", "第2会議室", "第3会議室", "中会議室", "小会議室"]
    rooms: list[Room] = []
    for index, host in enumerate(hosts_and_spares):
        room_number, seat = divmod(index, TABLES_PER_ROOM)
        if room_number == len(rooms):
            name = (room_names[room_number] if room_number < len(room_names)
                    else f"第{room_number + 1}会議室")
            rooms.append(Room(event=event, name=name, sort_order=room_number))
        prefix = (TABLE_LETTERS[room_number] if room_number < len(TABLE_LETTERS)
                  else f"R{room_number + 1}-")
        rooms[room_number].tables.append(Table(
            event_id=event.id, label=f"{prefix}{seat + 1:02d}", host=host, sort_order=index,
        ))
    return rooms


def _match(supplier: _Supplier, buyer: _Buyer) -> tuple[int, int]:
    """(technologies in common, fields in common) between a supplier and a buyer's needs."""
    return (len(supplier.technology_set & buyer.technology_set),
            len(supplier.field_set & buyer.field_set))


def _need_note(supplier: _Supplier, buyer: _Buyer) -> str:
    for need in buyer.needs:
        common = [c for c in supplier.technologies if c in need.technologies]
        if common:
            return f"「{need.title}」について、{technology_label(common[0])}で対応可能です。"
    return ""


def _interests(rng: random.Random, event: Event, buyers: Sequence[_Buyer],
               suppliers: Sequence[_Supplier]) -> list[Interest]:
    """Supplier requests (popular buyers draw many), buyer screening and a few buyer requests."""
    # Zipf-like popularity: a few well-known buyers attract most requests.
    popularity_rank = list(range(len(buyers)))
    rng.shuffle(popularity_rank)
    popularity = [1.0 / (rank + 1) ** 0.6 for rank in popularity_rank]
    rows: dict[tuple[int, int], Interest] = {}  # (from index, to index) in one numbering

    def add(sender: Participant, target: Participant, key: tuple[int, int],
            **fields: object) -> None:
        rows[key] = Interest(event_id=event.id, from_participant=sender, to_participant=target,
                             **fields)

    requested_by: list[list[int]] = [[] for _ in buyers]
    for s_index, supplier in enumerate(suppliers):
        matches = [_match(supplier, buyer) for buyer in buyers]
        weights = [pop * (1.0 + shared + 0.5 * fields)
                   for pop, (shared, fields) in zip(popularity, matches, strict=True)]
        wanted = rng.choices((3, 4, 5, 6, 7, 8), (1, 2, 4, 3, 2, 1))[0]
        count = min(len(buyers), MAX_REQUESTS, wanted)
        for b_index in _weighted_sample(rng, range(len(buyers)), weights, count):
            shared, fields = matches[b_index]
            if shared >= 2:
                level = 3 if rng.random() < 0.8 else 2
            elif shared == 1:
                level = rng.choice((2, 3))
            else:
                level = rng.choice((1, 2))
            note = _need_note(supplier, buyers[b_index]) if rng.random() < 0.6 else ""
            add(supplier.participant, buyers[b_index].participant,
                (len(buyers) + s_index, b_index), level=level, note=note, source="request")
            requested_by[b_index].append(s_index)

    for b_index, buyer in enumerate(buyers):
        for s_index in requested_by[b_index]:  # screening, in request order
            shared, fields = _match(suppliers[s_index], buyer)
            roll = rng.random()
            key = (b_index, len(buyers) + s_index)
            target = suppliers[s_index].participant
            if shared and roll < 0.6:
                add(buyer.participant, target, key, level=3 if shared >= 2 else 2,
                    source="screening")
            elif not shared and fields and roll < 0.2:
                add(buyer.participant, target, key, level=1, source="screening")
            elif (not shared and roll < (0.45 if not fields else 0.35)) or roll > 0.96:
                add(buyer.participant, target, key, level=0, declined=True, source="screening",
                    note="現在は該当する発注案件がないため" if rng.random() < 0.5 else "")
        if rng.random() < 0.35:  # the buyer also asks for suppliers that did not come forward
            asked_by = set(requested_by[b_index])
            shared_counts = [(i, _match(s, buyer)[0]) for i, s in enumerate(suppliers)
                             if i not in asked_by]
            candidates = [i for i, shared in shared_counts if shared > 0]
            weights = [float(shared) for _, shared in shared_counts if shared > 0]
            for s_index in _weighted_sample(rng, candidates, weights, rng.randint(1, 3)):
                add(buyer.participant, suppliers[s_index].participant,
                    (b_index, len(buyers) + s_index), level=rng.choice((2, 3)), source="request",
                    note="貴社の技術について詳しく伺いたい")
    return list(rows.values())


# ----------------------------------------------------------------------- public
def generate_demo(
    session: Session,
    *,
    seed: int = 2027,
    buyers: int = 32,
    suppliers: int = 160,
    slug: str = "monozukuri-2027",
    name: str | None = None,
    day: date = date(2027, 2, 17),
    phase: Phase = Phase.SCHEDULING,
) -> Event:
    """Create the demo fair (or return the existing event with ``slug`` untouched).

    The same arguments always give the same fair: names, profiles, needs, people,
    availability and interests come from ``random.Random(seed)``. The fair is in the
    ``phase`` given (by default preferences are in and the organizer can schedule).
    Only flushes; the caller commits.
    """
    existing = session.scalar(select(Event).where(Event.slug == slug))
    if existing is not None:
        return existing
    if buyers < 1 or suppliers < 1:
        raise ValidationFailed(N_("A demo fair needs at least one buyer and one supplier."),
                               field="buyers" if buyers < 1 else "suppliers")
    rng = random.Random(seed)
    tz = ZoneInfo(TIMEZONE)
    event = Event(
        name=name or f"ふじのくに ものづくり受発注商談会 {day.year}", slug=slug,
        venue="県産業振興センター 3階",  # the rooms are the event's own (大会議室, 第2会議室)
        address="静岡県静岡市葵区産業通り1-2-3（デモ用の架空住所）",
        description=(
            f"県内外の発注企業{buyers}社と、県内を中心とする受注企業{suppliers}社による"
            "事前予約制の個別商談会です（1回25分）。発注企業の発注ニーズをご確認のうえ、"
            f"商談を希望する企業を最大{MAX_REQUESTS}社までお申し込みください。"
            "発注企業による事前審査の結果を踏まえて商談スケジュールを組み、開催前にお知らせします。"
        ),
        timezone=TIMEZONE, phase=phase.value, max_requests=MAX_REQUESTS,
        screening_enabled=True, contact_email="shodankai@example.jp",
        phases=_phase_deadlines(day),
    )
    session.add(event)
    session.flush()  # Interest rows carry event_id as a plain column

    event_day = EventDay(
        event=event, date=day, start_time=DAY_START, end_time=DAY_END,
        meeting_minutes=MEETING_MINUTES, changeover_minutes=CHANGEOVER_MINUTES, breaks=[LUNCH],
    )
    slots = [Slot(event=event, day=event_day, starts_at=start, ends_at=end,
                  label=start.astimezone(tz).strftime("%H:%M"))
             for start, end in _slot_times(day, tz)]

    names = _Names()
    two_desks = rng.sample(range(buyers), k=round(TWO_DESK_SHARE * buyers))
    buyer_list = [_make_buyer(rng, names, event, i + 1, 2 if i in two_desks else 1)
                  for i in range(buyers)]
    supplier_list = [_make_supplier(rng, names, event, i + 1) for i in range(suppliers)]
    participants = [b.participant for b in buyer_list] + [s.participant for s in supplier_list]
    _availability(rng, participants, day, slots)
    # Added explicitly: SQLAlchemy 2 no longer cascades objects into the session via backrefs.
    session.add_all([event_day, *slots, *participants, *_tables(event, buyer_list)])
    session.add_all(_interests(rng, event, buyer_list, supplier_list))
    session.flush()
    return event


def ensure_demo_organizer(session: Session, *, password: str = DEMO_PASSWORD
                          ) -> tuple[User, str | None]:
    """The demo organizer (and a staff account), created if missing.

    Returns the organizer and the password when it was just created, or None when
    the account already existed (its password is then left alone and not known).
    """
    staff = session.scalar(select(User).where(User.email == DEMO_STAFF_EMAIL))
    if staff is None:
        create_user(session, email=DEMO_STAFF_EMAIL, name="デモ受付スタッフ", password=password,
                    role=Role.STAFF.value)
    organizer = session.scalar(select(User).where(User.email == DEMO_ORGANIZER_EMAIL))
    if organizer is not None:
        return organizer, None
    organizer = create_user(session, email=DEMO_ORGANIZER_EMAIL, name="デモ主催者",
                            password=password, role=Role.ORGANIZER.value)
    return organizer, password
