import pytest

from ner.data.normalize import Normalizer


def test_arabic_letters_digits_diacritics_tatweel():
    n = Normalizer()
    assert n("شركت شهرك‌هاي صنعتي") == "شرکت شهرک‌های صنعتی"
    assert n("۱۲3٤") == "۱۲۳۴"
    assert Normalizer(digits="latin")("۱۲3٤") == "1234"
    assert Normalizer(digits="keep")("۱۲3٤") == "۱۲3٤"
    assert n("مُحَمَّد") == "محمد"
    assert n("تهـــران") == "تهران"


def test_zwnj_variants():
    n = Normalizer()
    assert n("می\u200c\u200cشود") == "می\u200cشود"          # doubled
    assert n("می\u200c شود") == "می شود"                     # next to a space
    assert n("\u200cمی") == "می"                             # leading
    assert Normalizer(zwnj="space")("می\u200cشود") == "می شود"
    assert Normalizer(zwnj="remove")("می\u200cشود") == "میشود"
    assert n("a\u00a0b\u200bc") == "a bc"                    # NBSP -> space, zero-width space removed


@pytest.mark.parametrize("text", ["شركتِ  تهـران\u200c\u200cي ۱۲3 😀", "\u200f«بانك»\u200e", "ـــ"])
def test_offset_map_points_back_to_the_original(text):
    res = Normalizer().normalize(text)
    assert len(res.index) == len(res.text)
    assert list(res.index) == sorted(res.index)
    for i, ch in enumerate(res.text):
        orig = text[res.index[i]]
        assert Normalizer()(orig) in (ch, "") or orig.isspace() or orig == "\u200c"


def test_to_original_span():
    text = "بانكِ ملي"
    res = Normalizer().normalize(text)
    start = res.text.index("ملی")
    assert res.to_original(start, start + 3) == (6, 9)
    assert text[6:9] == "ملي"
    with pytest.raises(ValueError):
        res.to_original(2, 2)


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="digits"):
        Normalizer(digits="roman")
