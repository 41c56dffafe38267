"""Company-name keys fold the spellings of one company together and keep others apart."""

from __future__ import annotations

import pytest

from scheduler.names import company_name_key


@pytest.mark.parametrize(
    "spelling",
    [
        "株式会社山田製作所",
        "株式会社　山田製作所",
        "株式会社 山田製作所",
        "山田製作所株式会社",
        "山田製作所 株式会社",
        "(株)山田製作所",
        "（株）山田製作所",
        "㈱山田製作所",
        "㍿山田製作所",
        "山田製作所(株)",
        "山田　製作所",
        " 山田製作所 ",
        "山田製作所",
    ],
)
def test_spellings_of_a_kabushiki_kaisha_share_one_key(spelling: str) -> None:
    assert company_name_key(spelling) == "山田製作所"


@pytest.mark.parametrize(
    ("spelling", "key"),
    [
        ("有限会社丸十工業", "丸十工業"),
        ("(有)丸十工業", "丸十工業"),
        ("㈲丸十工業", "丸十工業"),
        ("合同会社ミライ技研", "ミライ技研"),
        ("合資会社ｻｸﾗ電子", "サクラ電子"),
        ("一般社団法人　ものづくり協会", "ものづくり協会"),
        ("ＡＢＣ精工株式会社", "abc精工"),
        ("Yamada Works Co., Ltd.", "yamadaworks"),
        ("YAMADA WORKS CO.,LTD", "yamadaworks"),
        ("Tokai Robotics Inc.", "tokairobotics"),
        ("Incubator Works", "incubatorworks"),
    ],
)
def test_other_legal_forms_and_widths(spelling: str, key: str) -> None:
    assert company_name_key(spelling) == key


def test_different_companies_keep_different_keys() -> None:
    assert company_name_key("株式会社山田製作所") != company_name_key("株式会社山田精工")
    assert company_name_key("株式会社山田製作所") != company_name_key("株式会社田山製作所")


def test_a_name_that_is_only_a_legal_form_keeps_a_key() -> None:
    assert company_name_key("株式会社") == "株式会社"
    assert company_name_key("") == ""
