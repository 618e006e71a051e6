from ner.data.words import split_sentences, split_words


def texts(s):
    return [w.text for w in split_words(s)]


def test_zwnj_stays_inside_a_word_and_punctuation_splits():
    assert texts("شرکت شهرک‌های صنعتی، «استان گیلان»؛ چرا؟") == [
        "شرکت", "شهرک‌های", "صنعتی", "،", "«", "استان", "گیلان", "»", "؛", "چرا", "؟"]


def test_numbers_keep_their_inner_separators():
    assert texts("۱.۵ میلیون یورو و 16,000 دلار در ۱۴۰۲/۰۵/۱۰ ساعت 10:30") == [
        "۱.۵", "میلیون", "یورو", "و", "16,000", "دلار", "در", "۱۴۰۲/۰۵/۱۰", "ساعت", "10:30"]
    assert texts("پایان.") == ["پایان", "."]


def test_offsets_index_the_original_text_with_odd_spacing_and_emoji():
    s = "  خوشه\u200cی   چای 😀👍🏽\u200f\tتهران\u200c "
    for w in split_words(s):
        assert s[w.start:w.end] == w.text
    assert texts(s) == ["خوشه\u200cی", "چای", "😀", "👍🏽", "تهران"]  # edge ZWNJ dropped, RLM separates


def test_sentences_cover_every_word_once():
    s = "عنوان خبر\nجمله اول. جمله دوم؟ جمله سوم"
    words = split_words(s)
    sents = split_sentences(s, words)
    assert sents == [(0, 2), (2, 5), (5, 8), (8, 10)]
    assert split_sentences("", []) == []
