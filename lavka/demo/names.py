"""Word lists the demo company's clients are drawn from: Russian and English
organisations and people, cities with their telephone codes."""

# Russian text is meant: Cyrillic letters that look Latin are not a mistake here.

from __future__ import annotations

from lavka.clients.identifiers import CYR_TO_LAT

# Russian organisations: the brand goes in «quotes» after the legal form.
RU_ORG_FORMS = ["ООО", "АО", "ПАО", "ООО", "ООО"]
RU_ORG_BRANDS = [
    "Северный ветер",
    "Уральские самоцветы",
    "Волжская мануфактура",
    "Полярная звезда",
    "Русский хлеб",
    "СтройМаркет",
    "Берёзка",
    "Самоцвет",
    "Волга-Трейд",
    "Балтийский берег",
    "Сибирский лес",
    "Печатный двор",
    "Невская логистика",
    "Кама-Агро",
    "Ладога",
    "Тёплый дом",
    "Медный всадник",
    "Золотое руно",
    "Альфа-Склад",
    "ТехноПарк",
    "Росинка",
    "Горизонт",
    "Вектор",
    "Чистая вода",
    "Светлый путь",
    "Зелёный остров",
    "Дальний рейс",
    "Белые ночи",
    "Мастер Ключ",
    "Петровские верфи",
    "Кремлёвская пекарня",
    "Рыбный ряд",
    "Озёрный край",
    "ЭнергоСбыт Плюс",
    "Три медведя",
    "Лесная поляна",
    "Красный октябрь",
    "Ярмарка",
    "Городской сад",
    "Старый мельник",
]
EN_ORG_BRANDS = [
    "Northwind",
    "Baltic Timber",
    "Blue Harbour",
    "Red Kite",
    "Silver Birch",
    "Oak & Iron",
    "Greenfield",
    "Harbour Light",
    "Stonebridge",
    "Westway",
    "Bright Orchard",
    "Kestrel",
    "Copper Pot",
    "Fairhaven",
    "Highland Mill",
    "Blackwater",
    "Meridian",
    "Lighthouse",
    "Pinecrest",
    "Union Square",
]
EN_ORG_SECTORS = ["Trading", "Logistics", "Foods", "Systems", "Supplies", "Engineering", "Retail"]
EN_ORG_FORMS = ["Ltd", "LLC", "GmbH", "Oy", "Inc."]

# Russian people: (first name, surname) kept apart by gender so surnames agree.
RU_MALE_FIRST = [
    "Алексей",
    "Дмитрий",
    "Сергей",
    "Андрей",
    "Михаил",
    "Николай",
    "Владимир",
    "Игорь",
    "Артём",
    "Максим",
    "Роман",
    "Евгений",
    "Константин",
    "Григорий",
]
RU_FEMALE_FIRST = [
    "Анна",
    "Мария",
    "Екатерина",
    "Ольга",
    "Наталья",
    "Татьяна",
    "Ирина",
    "Светлана",
    "Юлия",
    "Дарья",
    "Ксения",
    "Вера",
    "Полина",
    "Людмила",
]
RU_SURNAMES = [
    "Соколов",
    "Морозов",
    "Волков",
    "Лебедев",
    "Козлов",
    "Новиков",
    "Павлов",
    "Семёнов",
    "Голубев",
    "Виноградов",
    "Богданов",
    "Воробьёв",
    "Фёдоров",
    "Зайцев",
    "Медведев",
    "Крылов",
    "Белов",
    "Комаров",
    "Орлов",
    "Киселёв",
]
EN_FIRST = [
    "John",
    "Emily",
    "James",
    "Sarah",
    "Oliver",
    "Charlotte",
    "Thomas",
    "Grace",
    "William",
    "Hannah",
    "Daniel",
    "Lucy",
    "George",
    "Amelia",
]
EN_SURNAMES = [
    "Carter",
    "Smith",
    "Walker",
    "Hughes",
    "Turner",
    "Bennett",
    "Fletcher",
    "Price",
    "Harris",
    "Morgan",
    "Brooks",
    "Ward",
    "Palmer",
    "Reed",
]

# (city, telephone area code). Moscow's reps sell around Moscow and the Volga;
# St Petersburg's around the north-west and abroad.
# A city listed twice comes up twice as often.
CITIES_MOSCOW = [
    ("Москва", "495"),
    ("Москва", "499"),
    ("Москва", "495"),
    ("Тула", "4872"),
    ("Казань", "843"),
    ("Нижний Новгород", "831"),
    ("Екатеринбург", "343"),
    ("Новосибирск", "383"),
    ("Самара", "846"),
]
CITIES_ST_PETERSBURG = [
    ("Санкт-Петербург", "812"),
    ("Санкт-Петербург", "812"),
    ("Великий Новгород", "8162"),
    ("Петрозаводск", "8142"),
    ("Мурманск", "8152"),
    ("Калининград", "4012"),
    ("Псков", "8112"),
]
CITIES_ABROAD = [
    ("Helsinki", "+358 9"),
    ("Berlin", "+49 30"),
    ("London", "+44 20"),
    ("Tallinn", "+372"),
]

EMAIL_BOXES = ["info", "sales", "office", "zakaz", "hello", "contact"]


def slug(text: str) -> str:
    """Latin letters, digits and hyphens: the part of an email address made from a name."""
    latin = "".join(CYR_TO_LAT.get(ch, ch) for ch in text.lower())
    words = "".join(ch if ch.isascii() and ch.isalnum() else " " for ch in latin).split()
    return "-".join(words)
