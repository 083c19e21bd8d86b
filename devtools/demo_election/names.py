"""Invented Omani-style personal names: given name + bin/bint + father's name + family name.

Every name is a random combination of common given names and common family names, so no generated name
is meant to denote a real person. Women's family names take the feminine form in Arabic (as is usual in
Oman: الحارثية) and the masculine form in English transliteration.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

MALE_GIVEN: tuple[tuple[str, str], ...] = (
    ("سالم", "Salim"),
    ("علي", "Ali"),
    ("محمد", "Mohammed"),
    ("أحمد", "Ahmed"),
    ("سعيد", "Saeed"),
    ("خالد", "Khalid"),
    ("سيف", "Saif"),
    ("حمد", "Hamad"),
    ("ناصر", "Nasser"),
    ("عبدالله", "Abdullah"),
    ("سليمان", "Sulaiman"),
    ("راشد", "Rashid"),
    ("يوسف", "Yousuf"),
    ("هلال", "Hilal"),
    ("مبارك", "Mubarak"),
    ("خميس", "Khamis"),
    ("حمود", "Hamood"),
    ("سعود", "Saud"),
    ("مسلم", "Musallam"),
    ("عيسى", "Issa"),
    ("موسى", "Musa"),
    ("إبراهيم", "Ibrahim"),
    ("عامر", "Amer"),
    ("ماجد", "Majid"),
    ("طالب", "Talib"),
    ("بدر", "Badr"),
    ("زاهر", "Zahir"),
    ("جمعة", "Juma"),
    ("سلطان", "Sultan"),
    ("منصور", "Mansoor"),
    ("عبدالرحمن", "Abdulrahman"),
    ("عبدالعزيز", "Abdulaziz"),
    ("فهد", "Fahad"),
    ("مالك", "Malik"),
    ("هاشم", "Hashim"),
    ("عوض", "Awadh"),
    ("مرهون", "Marhoon"),
    ("حارث", "Harith"),
    ("غالب", "Ghalib"),
    ("يعقوب", "Yaqoob"),
    ("عمر", "Omar"),
    ("حسن", "Hassan"),
    ("حسين", "Hussain"),
    ("زايد", "Zayed"),
    ("مهنا", "Muhanna"),
    ("بشير", "Bashir"),
    ("أنور", "Anwar"),
    ("طارق", "Tariq"),
)

FEMALE_GIVEN: tuple[tuple[str, str], ...] = (
    ("فاطمة", "Fatma"),
    ("مريم", "Maryam"),
    ("عائشة", "Aisha"),
    ("زينب", "Zainab"),
    ("خديجة", "Khadija"),
    ("شيخة", "Shaikha"),
    ("موزة", "Moza"),
    ("نورة", "Noora"),
    ("سعاد", "Suad"),
    ("ليلى", "Laila"),
    ("أمل", "Amal"),
    ("بدرية", "Badriya"),
    ("رحمة", "Rahma"),
    ("سلمى", "Salma"),
    ("حليمة", "Halima"),
    ("منى", "Muna"),
    ("هدى", "Huda"),
    ("عزة", "Azza"),
    ("طيبة", "Taiba"),
    ("وفاء", "Wafa"),
    ("أسماء", "Asma"),
    ("جميلة", "Jamila"),
)

# (masculine Arabic, feminine Arabic, English)
FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("البلوشي", "البلوشية", "Al Balushi"),
    ("الحارثي", "الحارثية", "Al Harthy"),
    ("الكندي", "الكندية", "Al Kindi"),
    ("الهنائي", "الهنائية", "Al Hinai"),
    ("المعمري", "المعمرية", "Al Maamari"),
    ("السعدي", "السعدية", "Al Saadi"),
    ("الشكيلي", "الشكيلية", "Al Shukaili"),
    ("العامري", "العامرية", "Al Amri"),
    ("الرواحي", "الرواحية", "Al Rawahi"),
    ("الغافري", "الغافرية", "Al Ghafri"),
    ("الريامي", "الريامية", "Al Riyami"),
    ("الحبسي", "الحبسية", "Al Habsi"),
    ("المقبالي", "المقبالية", "Al Maqbali"),
    ("الشامسي", "الشامسية", "Al Shamsi"),
    ("الكلباني", "الكلبانية", "Al Kalbani"),
    ("العبري", "العبرية", "Al Abri"),
    ("اليحيائي", "اليحيائية", "Al Yahyai"),
    ("الوهيبي", "الوهيبية", "Al Wahaibi"),
    ("المحروقي", "المحروقية", "Al Mahrooqi"),
    ("الجابري", "الجابرية", "Al Jabri"),
    ("الراشدي", "الراشدية", "Al Rashdi"),
    ("الحوسني", "الحوسنية", "Al Hosni"),
    ("الفارسي", "الفارسية", "Al Farsi"),
    ("النعماني", "النعمانية", "Al Nomani"),
    ("السيابي", "السيابية", "Al Siyabi"),
    ("البطاشي", "البطاشية", "Al Battashi"),
    ("الخروصي", "الخروصية", "Al Kharusi"),
    ("الإسماعيلي", "الإسماعيلية", "Al Ismaili"),
    ("الهاشمي", "الهاشمية", "Al Hashmi"),
    ("الشحي", "الشحية", "Al Shehhi"),
    ("الظهوري", "الظهورية", "Al Dhahouri"),
    ("المهري", "المهرية", "Al Mahri"),
    ("الشنفري", "الشنفرية", "Al Shanfari"),
    ("الكثيري", "الكثيرية", "Al Kathiri"),
    ("العوامري", "العوامرية", "Al Awamri"),
    ("المعشني", "المعشنية", "Al Mashani"),
    ("الغساني", "الغسانية", "Al Ghassani"),
    ("الجنيبي", "الجنيبية", "Al Junaibi"),
    ("المشيخي", "المشيخية", "Al Mashikhi"),
    ("الفزاري", "الفزارية", "Al Fazari"),
    ("السناني", "السنانية", "Al Sinani"),
    ("العلوي", "العلوية", "Al Alawi"),
    ("المنذري", "المنذرية", "Al Mandhari"),
    ("الصوافي", "الصوافية", "Al Sawafi"),
    ("التوبي", "التوبية", "Al Toobi"),
    ("الندابي", "الندابية", "Al Nadabi"),
    ("القاسمي", "القاسمية", "Al Qasmi"),
    ("المسكري", "المسكرية", "Al Maskari"),
    ("الزدجالي", "الزدجالية", "Al Zadjali"),
    ("العريمي", "العريمية", "Al Araimi"),
)


@dataclass(frozen=True)
class PersonName:
    ar: str
    en: str
    female: bool


def random_name(rng: random.Random, *, female: bool) -> PersonName:
    """One invented name, e.g. ``سالم بن علي البلوشي`` / ``Salim bin Ali Al Balushi``."""
    father_ar, father_en = rng.choice(MALE_GIVEN)
    family_m, family_f, family_en = rng.choice(FAMILIES)
    if female:
        given_ar, given_en = rng.choice(FEMALE_GIVEN)
        return PersonName(f"{given_ar} بنت {father_ar} {family_f}", f"{given_en} bint {father_en} {family_en}", True)
    given_ar, given_en = rng.choice(MALE_GIVEN)
    while given_ar == father_ar:  # a son is rarely named after his own father
        given_ar, given_en = rng.choice(MALE_GIVEN)
    return PersonName(f"{given_ar} بن {father_ar} {family_m}", f"{given_en} bin {father_en} {family_en}", False)
