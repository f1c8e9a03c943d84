"""Load for the chardet trial: detect the encoding of texts in several scripts and encodings.

Deterministic: the texts are built from fixed word lists with a fixed seed.
"""

import random

import chardet

ROUNDS = 18

WORDS = {
    "latin-1": [
        "über",
        "straße",
        "café",
        "naïve",
        "façade",
        "déjà",
        "größe",
        "mañana",
        "señor",
        "año",
        "crème",
        "brûlée",
    ],
    "cp1251": [
        "привет",
        "мир",
        "быстро",
        "медленно",
        "город",
        "страна",
        "человек",
        "работа",
        "время",
        "жизнь",
    ],
    "koi8-r": [
        "привет",
        "мир",
        "быстро",
        "медленно",
        "город",
        "страна",
        "человек",
        "работа",
        "время",
        "жизнь",
    ],
    "shift_jis": ["日本語", "文字", "東京", "大阪", "会社", "学校", "先生", "電車", "時間", "天気"],
    "euc-kr": ["한국어", "문자", "서울", "부산", "회사", "학교", "선생님", "전철", "시간", "날씨"],
    "iso-8859-7": [
        "καλημέρα",
        "κόσμος",
        "γρήγορα",
        "αργά",
        "πόλη",
        "χώρα",
        "άνθρωπος",
        "δουλειά",
        "χρόνος",
        "ζωή",
    ],
    "utf-8": ["über", "привет", "日本語", "한국어", "καλημέρα", "café", "東京", "мир"],
}


def samples() -> list[bytes]:
    rng = random.Random(7)
    texts = []
    for encoding, words in WORDS.items():
        for _ in range(3):
            text = " ".join(rng.choice(words) for _ in range(400))
            texts.append(text.encode(encoding))
    return texts


def main() -> None:
    texts = samples()
    for _ in range(ROUNDS):
        for data in texts:
            chardet.detect(data)


if __name__ == "__main__":
    main()
