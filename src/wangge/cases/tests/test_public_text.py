"""scrub(): free text for a public surface keeps its words and loses phones, IDs, e-mails."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from wangge.cases.public_text import scrub

WORDS = st.text(alphabet="下水道堵了请尽快处理路口东侧井盖，。 ", max_size=20)


@given(WORDS, WORDS, st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_a_mobile_number_is_masked_and_the_words_around_it_stay(before: str, after: str,
                                                                 phone: str) -> None:
    out = scrub(f"{before}{phone}{after}")
    assert phone not in out and out.startswith(before) and out.endswith(after)


@given(WORDS, WORDS)
def test_an_email_is_masked_without_eating_the_chinese_around_it(before: str,
                                                                 after: str) -> None:
    out = scrub(f"{before}邮件ouyang.test@example.cn，{after}")
    assert "ouyang" not in out and out == f"{before}邮件***@***，{after}"


def test_id_numbers_and_landlines_are_masked() -> None:
    out = scrub("身份证430281199001011234，座机0731-23456789")
    assert "199001011234" not in out and "23456789" not in out
    assert out.startswith("身份证430281")


def test_country_codes_and_full_width_forms_are_masked_too() -> None:
    for text in ("电话+8613812345678", "8613812345678号", "+86 138 1234 5678",
                 "１３８１２３４５６７８", "ab＠qq.com好"):
        out = scrub(text)
        assert "12345678" not in out and "1234 5678" not in out and "ab@" not in out, out
    assert scrub("门牌86号13812345678") == "门牌86号138****5678"
