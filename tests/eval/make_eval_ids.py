#!/usr/bin/python3
"""make_eval_ids.py: writes tests/eval/eval_ids.jsonl, labelled messages for
the personal-data kinds that need a checksum or a context word: national ids
(UK NINO, Spanish DNI/NIE, Italian codice fiscale, French NIR), passport
numbers and booking references, each beside decoys that must stay (bad check
letter or key, no context word, shouting words after "booking", order numbers).

Deterministic (seeded), standard library only:
    /usr/bin/python3 tests/eval/make_eval_ids.py
Score it with: sbctl classify --eval tests/eval/eval_ids.jsonl
"""
import json
import os
import random

R = random.Random(4)
DNI = "TRWAGMYFPDXBNJZSQVHLCKE"
CF_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21,
          2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]
UP = "ABCDEFGHJKLMNPRSTUVWXYZ"


def digits(n):
    return "".join(R.choice("0123456789") for _ in range(n))


def dni(ok=True):
    n = digits(8)
    letter = DNI[int(n) % 23]
    if not ok:
        letter = DNI[(int(n) + 1) % 23]
    return n + letter


def nie(ok=True):
    p = R.choice("XYZ")
    n = digits(7)
    letter = DNI[int(str("XYZ".index(p)) + n) % 23]
    if not ok:
        letter = DNI[(int(str("XYZ".index(p)) + n) + 5) % 23]
    return p + n + letter


def cf(ok=True):
    s = ("".join(R.choice("BCDFGLMNPRSTVZ") for _ in range(6)) + digits(2) +
         R.choice("ABCDEHLMPRST") + "%02d" % R.randint(1, 71) +
         R.choice("ABCDEFGHLM") + digits(3))
    t = 0
    for k, c in enumerate(s):
        idx = ord(c) - 48 if c.isdigit() else ord(c) - 55
        v = ord(c) - 48 if c.isdigit() else ord(c) - 65
        t += CF_ODD[idx] if k % 2 == 0 else v
    return s + chr(65 + (t + (0 if ok else 3)) % 26)


def nir(ok=True, spaced=False):
    n = (R.choice("12") + digits(2) + "%02d" % R.randint(1, 12) +
         "%02d" % R.randint(1, 95) + digits(6))
    key = 97 - int(n) % 97
    if not ok:
        key = key % 97 + 1
    s = n + "%02d" % key
    if spaced:
        s = " ".join([s[0], s[1:3], s[3:5], s[5:7], s[7:10], s[10:13], s[13:]])
    return s


def nino():
    a = R.choice("ABCEGHJKLMNPRSTWXY")
    b = R.choice("ABCEGHJKLMNPRSTWXYZ")
    if a + b in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):
        a, b = "A", "B"
    return a + b + digits(6) + R.choice("ABCD")


def passport():
    return R.choice([digits(9), digits(2) + "".join(R.choice(UP) for _ in range(2)) + digits(5),
                     R.choice("CFGHJK") + digits(2) + R.choice(UP) + digits(2) + R.choice(UP) + digits(2)])


def pnr():
    while True:
        s = "".join(R.choice(UP + "23456789") for _ in range(6))
        if any(c.isalpha() for c in s) and any(c.isdigit() for c in s):
            return s


POS = [
    ("national_id", "Hi, my National Insurance number is {} and I still have no letter.", nino),
    ("national_id", "NINO {} - please update my record.", nino),
    ("national_id", "Hola, mi DNI es {} y no puedo facturar.", dni),
    ("national_id", "Mi NIE: {}. ¿Podéis cambiar el nombre de la reserva?", nie),
    ("national_id", "Buongiorno, il mio codice fiscale è {}, serve per la fattura.", cf),
    ("national_id", "Mon numéro de sécurité sociale : {}.", lambda: nir(True, True)),
    ("national_id", "NIR {} pour le remboursement svp", nir),
    ("passport", "My passport number is {}, the name is misspelled on the ticket.", passport),
    ("passport", "Numéro de passeport : {} merci de corriger.", passport),
    ("passport", "Meine Reisepassnummer ist {}.", passport),
    ("passport", "Número de pasaporte {} para el check-in.", passport),
    ("booking", "Flight cancelled again. Booking ref: {}. What now?", pnr),
    ("booking", "PNR {} - can I change the date?", pnr),
    ("booking", "Ma référence de réservation est {}.", pnr),
    ("booking", "Meine Buchungsnummer ist {}, danke.", pnr),
    ("booking", "Boekingscode {}. Alvast bedankt.", pnr),
]

NEG = [
    ("I ordered item {} last week and nothing arrived.", lambda: dni(False)),
    ("Ticket {} is still open.", lambda: nie(False)),
    ("Codice {} non valido?", lambda: cf(False)),
    ("Dossier {} toujours en attente.", lambda: nir(False)),
    ("Order {} shipped to the wrong city.", passport),
    ("Flight {} was delayed 3 hours.", pnr),
    ("MY BOOKING REFUND IS STILL NOT HERE", lambda: ""),
    ("booking please help me", lambda: ""),
    ("My passport expired on 12/05/2024, can I still fly?", lambda: ""),
    ("booking 483920 was charged twice", lambda: ""),
    ("Tracking code {} says delivered.", lambda: digits(9)),
]


def line(idx, text, spans):
    return {"id": "ids-%04d" % idx, "text": text, "channel": "email", "public": False,
            "followers": 0, "gold": {"pii": spans}}


def main():
    out = []
    idx = 0
    for _ in range(12):
        for kind, tpl, gen in POS:
            value = gen()
            text = tpl.format(value)
            start = len(text[:text.index(value)])  # code points
            out.append(line(idx, text, [{"type": kind, "start": start, "end": start + len(value)}]))
            idx += 1
        for tpl, gen in NEG:
            out.append(line(idx, tpl.format(gen()), []))
            idx += 1
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "eval_ids.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for o in out:
            f.write(json.dumps(o, ensure_ascii=False) + "\n")
    print(path, len(out))


if __name__ == "__main__":
    main()
