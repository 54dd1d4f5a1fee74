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


# --- sales ------------------------------------------------------------------------------

# (key, name, repeat cycle in days: how long a client's stock of it lasts)
CATEGORIES = [
    ("paper", "Paper (Бумага)", 30),
    ("print", "Printer supplies (Расходники для печати)", 60),
    ("coffee", "Coffee and tea (Кофе и чай)", 14),
    ("cleaning", "Cleaning (Хозтовары)", 45),
    ("furniture", "Furniture (Мебель)", 540),
    ("service", "Services (Услуги)", 90),
]

# (code, name, category key, unit, VAT %, price in RUB)
PRODUCTS = [
    ("PAP-A4-80", "Бумага офисная А4, 80 г/м², 500 л.", "paper", "пачка", "20", "390.00"),
    ("PAP-A3-80", "Бумага офисная А3, 80 г/м², 500 л.", "paper", "пачка", "20", "790.00"),
    ("PAP-ECO-A4", "Бумага переработанная А4, 500 л.", "paper", "пачка", "20", "340.00"),
    ("PRN-TN-2375", "Тонер-картридж TN-2375", "print", "шт.", "20", "2450.00"),
    ("PRN-CF-259A", "Картридж CF259A", "print", "шт.", "20", "3900.00"),
    ("PRN-DRUM-12", "Фотобарабан DR-2335", "print", "шт.", "20", "5200.00"),
    ("COF-BEAN-1", "Кофе в зёрнах, 1 кг", "coffee", "кг", "10", "1650.00"),
    ("COF-TEA-100", "Чай чёрный, 100 пакетиков", "coffee", "уп.", "10", "320.00"),
    ("COF-SUGAR-1", "Сахар порционный, 1 кг", "coffee", "уп.", "10", "210.00"),
    ("CLN-TOWEL-6", "Полотенца бумажные, 6 рулонов", "cleaning", "уп.", "20", "460.00"),
    ("CLN-SOAP-5", "Мыло жидкое, 5 л", "cleaning", "канистра", "20", "690.00"),
    ("CLN-BAGS-120", "Мешки для мусора 120 л, 50 шт.", "cleaning", "рулон", "20", "380.00"),
    ("FRN-CHAIR-OP", "Кресло офисное «Оптима»", "furniture", "шт.", "20", "8900.00"),
    ("FRN-DESK-140", "Стол письменный 140×70", "furniture", "шт.", "20", "11500.00"),
    ("FRN-SHELF-5", "Стеллаж архивный, 5 полок", "furniture", "шт.", "20", "6400.00"),
    ("SRV-DELIVERY", "Доставка по городу", "service", "рейс", "20", "900.00"),
    ("SRV-PRINTER", "Обслуживание принтера", "service", "визит", "20", "2500.00"),
    ("SRV-SETUP", "Сборка мебели", "service", "час", None, "1200.00"),
]

# Deal titles: "{what} — {client}" is added by the generator.
DEAL_SUBJECTS = [
    "Поставка бумаги на квартал",
    "Картриджи для офиса",
    "Кофе-пойнт для переговорной",
    "Хозтовары по договору",
    "Мебель для нового офиса",
    "Обслуживание принтеров",
    "Годовой контракт на расходники",
    "Тендер на канцелярию",
    "Office supplies for the year",
    "Printer fleet service",
]
DEAL_SOURCES = ["Сайт", "Выставка", "Рекомендация", "Холодный звонок", "Website", "Referral"]
LOST_REASONS = [
    "Выбрали поставщика дешевле",
    "Бюджет перенесли на следующий год",
    "Не прошли по срокам поставки",
    "Chose a competitor with a local warehouse",
    "Проект закрыт заказчиком",
]
COMPETITORS = ["Комус", "ОфисМаг", "Канцлер", "Office Premier", "Relef"]

# The second demo pipeline: (English, Russian, type, probability, colour).
TENDER_PIPELINE = ("Tenders", "Тендеры")
TENDER_STAGES = [
    ("Application", "Заявка", "open", 20, "neutral"),
    ("Documents filed", "Документы поданы", "open", 40, "accent"),
    ("Auction", "Торги", "open", 60, "warn"),
    ("Won", "Выиграли", "won", 100, "good"),
    ("Lost", "Проиграли", "lost", 0, "risk"),
]


# --- the card's blocks ------------------------------------------------------------------

# city -> (ISO country, region, tax region code (Russia) or "", postcode prefixes,
# streets). A postcode is a prefix and random digits up to the country's length.
PLACES: dict[str, tuple[str, str, str, list[str], list[str]]] = {
    "Москва": (
        "RU",
        "г. Москва",
        "77",
        ["101", "105", "109", "115", "117", "119", "123", "125", "127", "129"],
        [
            "Тверская ул.",
            "Ленинградский пр-т",
            "ул. Большая Ордынка",
            "Профсоюзная ул.",
            "ул. Садовая-Кудринская",
            "Варшавское ш.",
            "ул. Щепкина",
            "Дмитровское ш.",
        ],
    ),
    "Тула": (
        "RU",
        "Тульская обл.",
        "71",
        ["300"],
        ["пр-т Ленина", "ул. Советская", "Красноармейский пр-т", "ул. Болдина"],
    ),
    "Казань": (
        "RU",
        "Республика Татарстан",
        "16",
        ["420"],
        ["ул. Баумана", "ул. Пушкина", "пр-т Победы", "ул. Декабристов"],
    ),
    "Нижний Новгород": (
        "RU",
        "Нижегородская обл.",
        "52",
        ["603"],
        ["ул. Большая Покровская", "ул. Родионова", "Московское ш.", "ул. Белинского"],
    ),
    "Екатеринбург": (
        "RU",
        "Свердловская обл.",
        "66",
        ["620"],
        ["ул. Малышева", "пр-т Ленина", "ул. 8 Марта", "ул. Луначарского"],
    ),
    "Новосибирск": (
        "RU",
        "Новосибирская обл.",
        "54",
        ["630"],
        ["Красный пр-т", "ул. Кирова", "ул. Фрунзе", "ул. Большевистская"],
    ),
    "Самара": (
        "RU",
        "Самарская обл.",
        "63",
        ["443"],
        ["Московское ш.", "ул. Куйбышева", "ул. Ново-Садовая", "ул. Садовая"],
    ),
    "Санкт-Петербург": (
        "RU",
        "г. Санкт-Петербург",
        "78",
        ["190", "191", "192", "194", "195", "196", "197", "199"],
        [
            "Невский пр-т",
            "Лиговский пр-т",
            "наб. реки Фонтанки",
            "Московский пр-т",
            "ул. Марата",
            "Большой пр-т В.О.",
            "Кантемировская ул.",
            "ул. Савушкина",
        ],
    ),
    "Великий Новгород": (
        "RU",
        "Новгородская обл.",
        "53",
        ["173"],
        ["ул. Большая Московская", "Великая ул.", "ул. Людогоща"],
    ),
    "Петрозаводск": (
        "RU",
        "Республика Карелия",
        "10",
        ["185"],
        ["пр-т Ленина", "ул. Кирова", "Первомайский пр-т"],
    ),
    "Мурманск": (
        "RU",
        "Мурманская обл.",
        "51",
        ["183"],
        ["пр-т Ленина", "Кольский пр-т", "ул. Полярные Зори"],
    ),
    "Калининград": (
        "RU",
        "Калининградская обл.",
        "39",
        ["236"],
        ["Ленинский пр-т", "ул. Черняховского", "Московский пр-т"],
    ),
    "Псков": (
        "RU",
        "Псковская обл.",
        "60",
        ["180"],
        ["Октябрьский пр-т", "Рижский пр-т", "ул. Гоголя"],
    ),
    "Helsinki": (
        "FI",
        "Uusimaa",
        "",
        ["00"],
        ["Mannerheimintie", "Aleksanterinkatu", "Hämeentie", "Mechelininkatu"],
    ),
    "Berlin": (
        "DE",
        "Berlin",
        "",
        ["101", "104", "107", "109", "120"],
        ["Friedrichstraße", "Torstraße", "Kurfürstendamm", "Oranienstraße"],
    ),
    "London": (
        "GB",
        "Greater London",
        "",
        ["EC1A", "EC2M", "WC2N", "SE1", "SW1P", "N1", "E14"],
        ["Baker Street", "Old Street", "Borough High Street", "Commercial Road"],
    ),
    "Tallinn": (
        "EE",
        "Harju maakond",
        "",
        ["10"],
        ["Narva mnt", "Pärnu mnt", "Tartu mnt", "Viru väljak"],
    ),
}
CURRENCY_BY_COUNTRY = {"RU": "RUB", "FI": "EUR", "DE": "EUR", "EE": "EUR", "GB": "GBP"}

INDUSTRIES_RU = [
    "Розничная торговля",
    "Общепит (HoReCa)",
    "Производство",
    "Логистика",
    "Образование",
    "Информационные технологии",
    "Строительство",
    "Медицина",
    "Гостиничный бизнес",
    "Бизнес-центры и аренда",
]
INDUSTRIES_EN = [
    "Retail",
    "Hospitality",
    "Manufacturing",
    "Logistics",
    "Software",
    "Professional services",
    "Healthcare",
]
# The demo price lists a client can be on (names of the price level) and its discount.
PRICE_LEVELS = [
    ("Base prices (Базовые цены)", [0, 0, 0, 3]),
    ("Wholesale (Опт)", [5, 7, 10]),
    ("Dealer (Дилерский)", [12, 15]),
]
PAYMENT_TERMS = [0, 7, 14, 14, 30, 30, 30, 45, 60]
PREFERRED_TIMES = ["10:00–13:00", "после 15:00", "с 9 до 11", "weekday mornings", "after 2 pm"]
SOURCES = ["Сайт", "Рекомендация", "Выставка", "Холодный звонок", "Website", "Referral"]

TAGS_RU = ["опт", "розница", "HoReCa", "тендер", "офис", "госзаказчик", "доставка по графику"]
TAGS_EN = ["export", "newsletter", "wholesale", "tender"]

# (Russian, English) sources of a consent given, and of one withdrawn.
CONSENT_SOURCES = [
    ("Форма на сайте", "Website form"),
    ("Договор поставки", "Supply contract"),
    ("Выставка «Скрепка Экспо»", "Trade fair"),
    ("Звонок менеджера", "Phone call"),
]
CONSENT_WITHDRAWALS = [("Отписался по ссылке в письме", "Unsubscribed via the email link")]

MESSENGERS = ["Telegram", "WhatsApp", "VK"]
EXTRA_EMAIL_BOXES = ["buh", "accounts", "zakupki", "finance"]

# Contracts: (Russian subject, English subject, typical value in roubles).
CONTRACT_SUBJECTS = [
    ("Поставка канцелярских товаров", "Supply of office stationery", 600_000),
    ("Поставка бумаги и расходных материалов", "Supply of paper and consumables", 900_000),
    ("Кофе и чай для офиса по графику", "Scheduled coffee and tea supply", 300_000),
    ("Обслуживание принтеров", "Printer maintenance", 240_000),
    ("Поставка офисной мебели", "Office furniture supply", 1_800_000),
    ("Хозяйственные товары по заявкам", "Cleaning supplies on request", 400_000),
]
CONTRACT_NOTES = ["", "", "Скидка 5 % при оплате в течение 5 дней.", "Delivery every Tuesday."]

# Contact persons: (Russian job title, English job title).
JOB_TITLES = [
    ("Генеральный директор", "Managing director"),
    ("Менеджер по закупкам", "Purchasing manager"),
    ("Главный бухгалтер", "Chief accountant"),
    ("Офис-менеджер", "Office manager"),
    ("Руководитель отдела снабжения", "Head of procurement"),
    ("Коммерческий директор", "Commercial director"),
    ("Администратор", "Office administrator"),
]
# Their role in buying from us: (Russian, English).
PERSON_ROLES = [
    ("принимает решение", "decides"),
    ("согласует", "approves"),
    ("делает заказы", "places orders"),
    ("оплачивает счета", "pays invoices"),
]
BOARD_TITLE = ("Член совета директоров", "Board member")

# Personal details: the administrator's custom fields and values to draw.
CARS = [
    "Toyota Camry",
    "Kia Rio",
    "Lada Vesta",
    "Volvo XC60",
    "Škoda Octavia",
    "BMW 3",
    "Haval Jolion",
]
HOBBIES_RU = ["рыбалка", "горные лыжи", "шахматы", "садоводство", "бег", "фотография", "театр"]
HOBBIES_EN = ["sailing", "golf", "chess", "gardening", "running", "photography", "jazz"]
PET_NAMES_RU = ["Барсик", "Мурка", "Рекс", "Лайма", "Кузя", "Пушок"]
PET_NAMES_EN = ["Buddy", "Luna", "Max", "Daisy", "Bella", "Charlie"]
DRINKS = ["Coffee (Кофе)", "Tea (Чай)", "Green tea (Зелёный чай)", "Water (Вода)"]

TIER_REASONS = [
    "Оборот вырос вдвое за год",
    "Подписали годовой договор",
    "Annual volume above 5 million",
    "Закупки упали, перевели в массовый",
]

TASK_TITLES = [
    ("Позвонить по продлению договора", "call"),
    ("Отправить прайс-лист на сезон", "email"),
    ("Согласовать график поставок", "call"),
    ("Встреча: обсудить годовой объём", "meeting"),
    ("Send the updated price list", "email"),
    ("Call about the overdue invoice", "call"),
]
