"""The geography of the Sultanate of Oman used by the demo elections: 11 governorates and 63 wilayats.

Public geography, written from general knowledge; spellings follow common English usage. Which wilayats
elect two Shura members (30,000+ citizens) is approximated so that the demo has the real 27 two-seat and
36 one-seat contests of 2023; it is not an official list.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WilayatInfo:
    code: str
    name_ar: str
    name_en: str
    seats: int


@dataclass(frozen=True)
class GovernorateInfo:
    code: str
    name_ar: str
    name_en: str
    wilayats: tuple[WilayatInfo, ...]


def _gov(code: str, name_ar: str, name_en: str, wilayats: list[tuple[str, str, int]]) -> GovernorateInfo:
    return GovernorateInfo(
        code=code,
        name_ar=name_ar,
        name_en=name_en,
        wilayats=tuple(
            WilayatInfo(code=f"{code}-{i:02d}", name_ar=ar, name_en=en, seats=seats)
            for i, (ar, en, seats) in enumerate(wilayats, start=1)
        ),
    )


GOVERNORATES: tuple[GovernorateInfo, ...] = (
    _gov(
        "MA",
        "مسقط",
        "Muscat",
        [
            ("مسقط", "Muscat", 2),
            ("مطرح", "Muttrah", 2),
            ("بوشر", "Bawshar", 2),
            ("السيب", "As Seeb", 2),
            ("العامرات", "Al Amrat", 2),
            ("قريات", "Qurayyat", 2),
        ],
    ),
    _gov(
        "DH",
        "ظفار",
        "Dhofar",
        [
            ("صلالة", "Salalah", 2),
            ("طاقة", "Taqah", 1),
            ("مرباط", "Mirbat", 1),
            ("رخيوت", "Rakhyut", 1),
            ("ثمريت", "Thumrait", 1),
            ("ضلكوت", "Dalkut", 1),
            ("المزيونة", "Al Mazyunah", 1),
            ("مقشن", "Muqshin", 1),
            ("شليم وجزر الحلانيات", "Shalim and the Hallaniyat Islands", 1),
            ("سدح", "Sadah", 1),
        ],
    ),
    _gov(
        "MU",
        "مسندم",
        "Musandam",
        [
            ("خصب", "Khasab", 1),
            ("بخا", "Bukha", 1),
            ("دبا", "Daba", 1),
            ("مدحاء", "Madha", 1),
        ],
    ),
    _gov(
        "BU",
        "البريمي",
        "Al Buraimi",
        [
            ("البريمي", "Al Buraimi", 2),
            ("محضة", "Mahdah", 1),
            ("السنينة", "As Sunaynah", 1),
        ],
    ),
    _gov(
        "DA",
        "الداخلية",
        "Ad Dakhiliyah",
        [
            ("نزوى", "Nizwa", 2),
            ("بهلاء", "Bahla", 2),
            ("منح", "Manah", 1),
            ("الحمراء", "Al Hamra", 1),
            ("أدم", "Adam", 1),
            ("إزكي", "Izki", 2),
            ("سمائل", "Samail", 2),
            ("بدبد", "Bidbid", 1),
            ("الجبل الأخضر", "Al Jabal Al Akhdar", 1),
        ],
    ),
    _gov(
        "BN",
        "شمال الباطنة",
        "North Al Batinah",
        [
            ("صحار", "Sohar", 2),
            ("شناص", "Shinas", 2),
            ("لوى", "Liwa", 2),
            ("صحم", "Saham", 2),
            ("الخابورة", "Al Khaburah", 2),
            ("السويق", "As Suwayq", 2),
        ],
    ),
    _gov(
        "BS",
        "جنوب الباطنة",
        "South Al Batinah",
        [
            ("الرستاق", "Ar Rustaq", 2),
            ("العوابي", "Al Awabi", 1),
            ("نخل", "Nakhal", 1),
            ("وادي المعاول", "Wadi Al Maawil", 1),
            ("بركاء", "Barka", 2),
            ("المصنعة", "Al Musannah", 2),
        ],
    ),
    _gov(
        "SS",
        "جنوب الشرقية",
        "South Ash Sharqiyah",
        [
            ("صور", "Sur", 2),
            ("الكامل والوافي", "Al Kamil Wal Wafi", 1),
            ("جعلان بني بو حسن", "Jalan Bani Bu Hassan", 2),
            ("جعلان بني بو علي", "Jalan Bani Bu Ali", 2),
            ("مصيرة", "Masirah", 1),
        ],
    ),
    _gov(
        "SN",
        "شمال الشرقية",
        "North Ash Sharqiyah",
        [
            ("إبراء", "Ibra", 2),
            ("المضيبي", "Al Mudhaybi", 2),
            ("بدية", "Bidiyah", 1),
            ("القابل", "Al Qabil", 1),
            ("وادي بني خالد", "Wadi Bani Khalid", 1),
            ("دماء والطائيين", "Dima Wa At Taeen", 1),
            ("سناو", "Sinaw", 1),
        ],
    ),
    _gov(
        "DZ",
        "الظاهرة",
        "Adh Dhahirah",
        [
            ("عبري", "Ibri", 2),
            ("ينقل", "Yanqul", 1),
            ("ضنك", "Dank", 1),
        ],
    ),
    _gov(
        "WU",
        "الوسطى",
        "Al Wusta",
        [
            ("هيماء", "Haima", 1),
            ("الدقم", "Duqm", 1),
            ("محوت", "Mahout", 1),
            ("الجازر", "Al Jazer", 1),
        ],
    ),
)
