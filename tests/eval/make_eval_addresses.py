#!/usr/bin/python3
"""make_eval_addresses.py: writes tests/eval/eval_addresses.jsonl, labelled
messages for street addresses (PII type "address") in English, French,
Spanish, German and Dutch, with and without postal code and city, UK and NL
postcodes after an address word, and decoys that must stay: order, flight
and ticket numbers, dates, times, prices, rankings, postcodes without an
address word, streets without a house number.

Deterministic (seeded), standard library only:
    /usr/bin/python3 tests/eval/make_eval_addresses.py
Score it with: sbctl classify --eval tests/eval/eval_addresses.jsonl
(gold "pii_types": ["address"], so other kinds are not scored here).
"""
import json
import os
import random

R = random.Random(11)

EN_NAMES = ["Baker", "Downing", "Church", "Station", "Victoria", "Oxford", "Mill", "Park", "Elm", "Kings"]
EN_TYPES = ["Street", "St", "Road", "Rd", "Avenue", "Ave", "Lane", "Drive", "Boulevard", "Crescent", "Terrace"]
UK_CITIES = ["London", "Manchester", "Leeds", "Bristol", "Glasgow"]
US_CITIES = [("Springfield", "IL"), ("Austin", "TX"), ("Portland", "OR"), ("Denver", "CO")]
FR_TYPES = ["rue", "avenue", "boulevard", "bd", "chemin", "allée", "place", "impasse"]
FR_NAMES = ["de la Paix", "Victor Hugo", "des Lilas", "du Moulin", "Foch", "de la République", "Haussmann"]
FR_CITIES = ["Paris", "Lyon", "Marseille", "Toulouse", "Lille"]
ES_TYPES = ["Calle", "Avenida", "Paseo", "Plaza", "calle", "C/"]
ES_NAMES = ["Mayor", "de Alcalá", "del Prado", "Gran Vía", "de la Castellana", "Real"]
ES_CITIES = ["Madrid", "Sevilla", "Valencia", "Bilbao"]
DE_STREETS = ["Hauptstraße", "Bahnhofstraße", "Goethestrasse", "Lindenweg", "Marktplatz", "Schillerstr.",
              "Berliner Straße", "Am Waldweg"]
DE_CITIES = ["Berlin", "München", "Köln", "Hamburg"]
NL_STREETS = ["Kerkstraat", "Stationsweg", "Dorpsstraat", "Wilhelminalaan", "Prinsengracht", "Marktplein"]
NL_CITIES = ["Amsterdam", "Utrecht", "Leiden", "Den Haag"]


def num(maxd=3):
    return str(R.randint(1, 10 ** maxd - 1))


def house():
    n = num()
    return n + R.choice(["", "", "", "a", "B"])


def uk_postcode():
    out = R.choice(["SW1A", "EC1A", "M1", "B33", "LS2", "CR2", "DN55", "W1D", "N1"])
    return out + " " + str(R.randint(0, 9)) + R.choice("ABDEFGHJLNPQRSTUWXYZ") + R.choice("ABDEFGHJLNPQRSTUWXYZ")


def five():
    return "%05d" % R.randint(1000, 99999)


def nl_postcode():
    return str(R.randint(1000, 9999)) + R.choice([" ", ""]) + R.choice("ABCDEFGHJKLMNPRTUVWXYZ") + R.choice("ABCDEFGHJKLMNPRTUVWXYZ")


def en_uk():
    a = "%s %s %s" % (house(), R.choice(EN_NAMES), R.choice(EN_TYPES))
    r = R.random()
    if r < 0.4:
        a += ", %s %s" % (R.choice(UK_CITIES), uk_postcode())
    elif r < 0.6:
        a += ", " + uk_postcode()
    return a


def en_us():
    city, state = R.choice(US_CITIES)
    return "%s %s %s, %s, %s %s" % (num(4), R.choice(EN_NAMES), R.choice(EN_TYPES), city, state, five())


def fr():
    a = "%s %s %s" % (house(), R.choice(FR_TYPES), R.choice(FR_NAMES))
    if R.random() < 0.6:
        a += R.choice([", ", " "]) + five() + " " + R.choice(FR_CITIES)
    return a


def es():
    a = "%s %s%s %s" % (R.choice(ES_TYPES), R.choice(ES_NAMES), R.choice([",", ""]), num())
    if R.random() < 0.6:
        a += ", %s %s" % (five(), R.choice(ES_CITIES))
    return a


def de():
    a = "%s %s" % (R.choice(DE_STREETS), house())
    if R.random() < 0.6:
        a += ", %s %s" % (five(), R.choice(DE_CITIES))
    return a


def nl():
    a = "%s %s" % (R.choice(NL_STREETS), house())
    if R.random() < 0.6:
        a += R.choice([", ", " "]) + "%s %s" % (nl_postcode(), R.choice(NL_CITIES))
    return a


POS = [
    ("Please send the replacement to {} as soon as possible.", en_uk),
    ("My new address: {}. Thanks!", en_uk),
    ("Deliver to {} please", en_us),
    ("Pouvez-vous livrer au {} ?", fr),
    ("J'habite {}, merci de corriger.", fr),
    ("Enviadlo a {}, por favor.", es),
    ("Mi dirección es {}.", es),
    ("Bitte an {} schicken.", de),
    ("Meine Anschrift: {}", de),
    ("Graag bezorgen op {}.", nl),
    ("Mijn adres is {}, bedankt.", nl),
    ("postcode {} - is that in your area?", uk_postcode),
    ("mijn postcode is {}.", nl_postcode),
]

NEG = [
    ("Order {} still not delivered.", lambda: num(5)),
    ("Flight {} to Paris was cancelled.", lambda: num(4)),
    ("Flight BA{} St Louis connection missed.", lambda: num(4)),
    ("I was charged ${} twice.", lambda: num(3) + ".99"),
    ("Refund of {} EUR on 12/05 please", lambda: num(3)),
    ("It arrived on 12 May 2024 at {}.", lambda: "%d:%02d" % (R.randint(0, 23), R.randint(0, 59))),
    ("Waited {} hours on the road for the bus.", lambda: num(1)),
    ("Ticket {} AB is wrong.", lambda: str(R.randint(1000, 9999))),
    ("Code {} does not work.", uk_postcode),
    ("Wir sind auf Platz {} gelandet.", lambda: num(1)),
    ("The shop on Baker Street is closed today.", lambda: ""),
    ("Gate {} at Terminal 5, 200 passengers waiting.", lambda: num(2)),
    ("Buchungsnummer {} storniert.", lambda: num(5)),
    ("Spring {} sale voucher not accepted", lambda: "2024"),
]


def line(idx, text, spans):
    return {"id": "addr-%04d" % idx, "text": text, "channel": "email", "public": False, "followers": 0,
            "gold": {"pii": spans, "pii_types": ["address"]}}


def main():
    out = []
    idx = 0
    for _ in range(12):
        for tpl, gen in POS:
            value = gen()
            text = tpl.format(value)
            start = len(text[:text.index(value)])  # code points
            out.append(line(idx, text, [{"type": "address", "start": start, "end": start + len(value)}]))
            idx += 1
        for tpl, gen in NEG:
            out.append(line(idx, tpl.format(gen()), []))
            idx += 1
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "eval_addresses.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for o in out:
            f.write(json.dumps(o, ensure_ascii=False) + "\n")
    print(path, len(out))


if __name__ == "__main__":
    main()
