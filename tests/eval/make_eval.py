#!/usr/bin/python3
"""make_eval: writes the labelled evaluation sets of classify.

  tests/eval/eval.jsonl        several hundred messages in each of en, fr,
                               de, es, nl, it, pt with gold language,
                               sentiment, intents, PII spans (Unicode
                               code-point offsets), move_private, competitor
                               and legal flags;
  tests/eval/eval_langs.jsonl  short messages in 16 languages with gold
                               language only (CLD2 pipeline over more
                               languages than a tenant's default rules);
  tests/eval/sample_eval.jsonl the bundled corpus/sample.jsonl converted to
                               the same format (gold language, card and IBAN
                               spans, competitor; sentiment and the
                               topic-derived top intent for first messages
                               only), a set written by someone else.

Scored with `sbctl classify --eval FILE` (see tests/eval/README.md).

Invariants: deterministic (one seeded random.Random, no set iteration, no
clock), standard library only. Every sentence and template was written for
this project and differs from corpus/make_corpus.py's; brands, names,
e-mail domains (example.*) and phone numbers are fictional; card numbers are
generated Luhn-valid for a real issuer prefix, IBANs pass mod-97, and the
decoys (Luhn-failing 16-digit order numbers, IMEIs, IBANs with a wrong check)
must NOT be found. Gold labels follow the default rules' intent names
(corpus/rules/default.json): an intent is gold when a sentence of the
message asks or tells about it; "complaint" when the customer explicitly
complains about the service or staff; "praise" for compliments.

Usage: /usr/bin/python3 tests/eval/make_eval.py
"""

import json
import os
import random
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval_text  # noqa: E402  (templates, one block per language)

SEED = 4_2026
PER_LANG = 320
LANG_ONLY_PER_LANG = 30
ACCOUNT_INTENTS = {"cancellation", "rebooking", "baggage", "refund", "billing",
                   "delivery", "wrong_item"}
CHANNELS = {"x": 22, "facebook": 10, "instagram": 8, "messenger": 10,
            "whatsapp": 15, "email": 12, "webchat": 15, "sms": 8}
PUBLIC = {"x": 0.75, "facebook": 0.7, "instagram": 0.6}
SHARE = {"negative": 0.30, "card": 0.09, "iban": 0.06, "email": 0.07,
         "phone": 0.07, "decoy": 0.12, "competitor": 0.08, "legal": 0.05,
         "second": 0.12, "emoji": 0.15, "fullwidth": 0.15}
INTENT_WEIGHTS = {"delay": 9, "cancellation": 8, "rebooking": 7, "baggage": 7,
                  "refund": 8, "billing": 8, "outage": 8, "delivery": 8,
                  "disruption": 6, "lost_property": 4, "wrong_item": 6,
                  "complaint": 6, "praise": 9, "none": 8}
BRANDS = ["NordAir", "RailCity", "ModeShop", "BlueTram", "Parcelo"]
EMOJI = {"negative": ["😡", "😤", "👎", "🤬"], "positive": ["😍", "🙌", "👍", "❤️"],
         "neutral": ["🙏", "🤔", "📦", "✈️"]}
IBAN_FORMATS = {"DE": "n18", "FR": "n23", "ES": "n20", "NL": "a4n10",
                "IT": "a1n22", "PT": "n21", "GB": "a4n14", "BE": "n12"}
LANG_IBAN = {"en": "GB", "fr": "FR", "de": "DE", "es": "ES", "nl": "NL",
             "it": "IT", "pt": "PT"}
PHONES = {"en": ["+44 7700 9{d3}{d3}", "+44 20 7946 0{d3}"],
          "fr": ["+33 6 {d2} {d2} {d2} {d2}", "06 {d2} {d2} {d2} {d2}", "07{d2}{d2}{d2}{d2}"],
          "de": ["+49 151 {d4}{d4}", "0151 {d4} {d4}", "+49 30 {d4} {d4}"],
          "es": ["+34 6{d2} {d3} {d3}", "+34 91 {d3} {d2} {d2}"],
          "nl": ["+31 6 {d4} {d4}", "06-{d4}{d4}", "+31 20 {d3} {d4}"],
          "it": ["+39 3{d2} {d3} {d4}", "+39 06 {d4} {d4}"],
          "pt": ["+351 9{d2} {d3} {d3}", "+351 21 {d3} {d4}"]}


# ---------------------------------------------------------------- numbers

def luhn_digit(body):
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def make_card(rng):
    prefix, length = rng.choice([("4", 16), ("4", 16), ("51", 16), ("55", 16),
                                 ("2223", 16), ("37", 15), ("34", 15),
                                 ("6011", 16)])
    body = prefix + "".join(rng.choice("0123456789")
                            for _ in range(length - len(prefix) - 1))
    return body + luhn_digit(body)


def group_card(rng, digits):
    if len(digits) == 15:
        parts = [digits[:4], digits[4:10], digits[10:]]
    else:
        parts = [digits[i:i + 4] for i in range(0, len(digits), 4)]
    return rng.choice([" ", " ", "-", ""]).join(parts)


def fullwidth(s):
    return "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in s)


def bban(rng, fmt):
    out, i = "", 0
    while i < len(fmt):
        kind, j = fmt[i], i + 1
        while j < len(fmt) and fmt[j].isdigit():
            j += 1
        count = int(fmt[i + 1:j])
        pool = "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if kind == "a" else "0123456789"
        out += "".join(rng.choice(pool) for _ in range(count))
        i = j
    return out


def iban_check(country, body):
    moved = body + country + "00"
    num = "".join(str(int(c, 36)) for c in moved)
    return "%02d" % (98 - int(num) % 97)


def make_iban(rng, country, valid=True):
    body = bban(rng, IBAN_FORMATS[country])
    check = iban_check(country, body)
    if not valid:
        check = "%02d" % ((int(check) + 1 + rng.randrange(50)) % 97 or 2)
        if check == iban_check(country, body):
            check = "%02d" % (int(check) % 96 + 2)
    raw = country + check + body
    if rng.random() < 0.6:
        return " ".join(raw[i:i + 4] for i in range(0, len(raw), 4))
    return raw


def make_phone(rng, lang):
    fmt = rng.choice(PHONES[lang])
    out = ""
    i = 0
    while i < len(fmt):
        if fmt.startswith("{d", i):
            n = int(fmt[i + 2])
            out += "".join(rng.choice("0123456789") for _ in range(n))
            i += 4
        else:
            out += fmt[i]
            i += 1
    return out


def make_decoy(rng):
    kind = rng.choice(["order16", "order9", "imei", "badiban"])
    if kind == "order16":  # 16 digits, Visa-like prefix, Luhn fails
        card = make_card_visa(rng)
        bad = card[:-1] + str((int(card[-1]) + 1 + rng.randrange(8)) % 10)
        return " ".join(bad[i:i + 4] for i in range(0, 16, 4))
    if kind == "order9":
        return str(rng.randint(100000000, 999999999))
    if kind == "imei":
        body = "35" + "".join(rng.choice("0123456789") for _ in range(12))
        return body + luhn_digit(body)
    return make_iban(rng, rng.choice(sorted(IBAN_FORMATS)), valid=False)


def make_card_visa(rng):
    body = "4" + "".join(rng.choice("0123456789") for _ in range(14))
    return body + luhn_digit(body)


# ------------------------------------------------------------------ slots

def slots(rng, t):
    return {"flight": "%s%d" % (rng.choice(["NA", "NX", "RJ"]), rng.randint(100, 989)),
            "city": rng.choice(t["cities"]), "stop": rng.choice(t["stops"]),
            "line": rng.choice(["3", "7", "12", "B", "T2", "M4"]),
            "n": rng.randint(2, 9), "minutes": rng.choice([20, 25, 35, 40, 45, 50, 70]),
            "days": rng.randint(3, 12), "hours": rng.randint(2, 7),
            "amount": rng.choice(t["amounts"]), "product": rng.choice(t["products"]),
            "item": rng.choice(t["items"]), "time": "%02d:%02d" % (rng.randint(6, 22), rng.choice([5, 15, 30, 45])),
            "order": "MS-%06d" % rng.randint(0, 999999), "name": rng.choice(t["names"]),
            "brand": rng.choice(BRANDS)}


# --------------------------------------------------------------- messages

class Builder:
    """Assembles a message from sentences, tracking PII spans (code points)."""

    def __init__(self):
        self.parts, self.spans, self.intents = [], [], []

    def text(self):
        return " ".join(self.parts)

    def _offset(self):
        current = self.text()
        return len(current) + (1 if current else 0)

    def add(self, sentence, intents=()):
        self.parts.append(sentence)
        self.intents.extend(intents)

    def add_pii(self, template, kind, value):
        base = self._offset()
        pre, post = template.split("{x}")
        self.spans.append({"type": kind, "start": base + len(pre),
                           "end": base + len(pre) + len(value)})
        self.parts.append(pre + value + post)

    def prefix(self, s):
        shift = len(s)
        self.parts[0] = s + self.parts[0]
        for sp in self.spans:
            sp["start"] += shift
            sp["end"] += shift


def weighted(rng, table):
    keys = list(table)
    return rng.choices(keys, weights=[table[k] for k in keys])[0]


def pick(rng, options, values):
    return rng.choice(options).format(**values)


def add_pii(rng, b, t, lang, gold_pii):
    for kind in ("card", "iban", "email", "phone"):
        if rng.random() >= SHARE[kind]:
            continue
        if kind == "card":
            value = group_card(rng, make_card(rng))
            if rng.random() < SHARE["fullwidth"]:
                value = fullwidth(value)
        elif kind == "iban":
            value = make_iban(rng, rng.choice([LANG_IBAN[lang], LANG_IBAN[lang], "DE", "BE"]))
        elif kind == "email":
            value = "%s.%s%d@example.%s" % (rng.choice(t["names"]).lower(), rng.choice(["m", "k", "r", "j"]),
                                            rng.randint(1, 99), rng.choice(["com", "org", "net"]))
        else:
            value = make_phone(rng, lang)
        b.add_pii(rng.choice(t["pii"][kind]), kind, value)
        gold_pii.append(kind)


def body(rng, b, t, intent, values):
    """The main sentence; a template may start with "[a,b] " to name the
    other intents it also mentions (a refund of a cancelled trip)."""
    if intent == "none":
        b.add(pick(rng, t["none"], values))
        return
    sentence, extra = pick(rng, t["intents"][intent], values), []
    if sentence.startswith("["):
        head, sentence = sentence[1:].split("] ", 1)
        extra = head.split(",")
    b.add(sentence, [intent] + extra)


def tone_of(rng, intent):
    if intent == "praise":
        return "positive"
    if intent == "complaint":
        return "negative"
    return "negative" if rng.random() < SHARE["negative"] else "neutral"


def compose(rng, lang, t):
    values = slots(rng, t)
    intent = weighted(rng, INTENT_WEIGHTS)
    tone = tone_of(rng, intent)
    b, gold_pii = Builder(), []
    b.negative_said = False
    if tone == "negative" and rng.random() < 0.55:
        sentence, labels = rng.choice(t["neg_open"])
        b.add(sentence, labels)
        b.negative_said = True
    elif rng.random() < 0.25:
        b.add(rng.choice(t["neutral_open"]))
    body(rng, b, t, intent, values)
    b.negative_said |= intent == "complaint"
    if intent not in ("praise", "complaint", "none") and rng.random() < SHARE["second"]:
        second = weighted(rng, {k: v for k, v in INTENT_WEIGHTS.items()
                                if k not in (intent, "praise", "complaint", "none")})
        body(rng, b, t, second, values)
    add_pii(rng, b, t, lang, gold_pii)
    if rng.random() < SHARE["decoy"]:
        b.add(rng.choice(t["decoy"]).replace("{x}", make_decoy(rng)))
    competitor = rng.random() < SHARE["competitor"] and tone != "positive"
    if competitor:
        b.add(pick(rng, t["competitor"], {"comp": rng.choice(["FlyNow", "SkyBudget", "MetroPlus", "ShopRival"])}))
    legal = tone == "negative" and rng.random() < SHARE["legal"] * 3
    if legal:
        b.add(rng.choice(t["legal"]))
    closing(rng, b, t, tone)
    return b, values, intent, tone, competitor, legal


def closing(rng, b, t, tone):
    if tone == "negative" and (rng.random() < 0.6 or not b.negative_said):
        sentence, labels = rng.choice(t["neg_close"])
        b.add(sentence, labels)
    elif tone == "positive" and rng.random() < 0.5:
        b.add(rng.choice(t["pos_close"]))
    elif tone == "neutral" and rng.random() < 0.35:
        b.add(rng.choice(t["neutral_close"]))


def decorate(rng, b, t, channel, public, tone, values):
    if channel == "email":
        b.prefix(t["email_open"] + "\n\n")
        b.parts.append("\n\n%s\n%s" % (t["email_close"], values["name"]))
        return
    if channel in ("x", "instagram") and public:
        b.prefix("@%s " % values["brand"])
    if channel != "sms" and rng.random() < SHARE["emoji"]:
        b.parts.append(rng.choice(EMOJI[tone]))


def message(rng, lang, t, index):
    b, values, intent, tone, competitor, legal = compose(rng, lang, t)
    channel = weighted(rng, CHANNELS)
    public = rng.random() < PUBLIC.get(channel, 0.0)
    decorate(rng, b, t, channel, public, tone, values)
    text = b.text().replace(" \n\n", "\n\n")
    intents = sorted(set(b.intents))
    has_pii = bool(b.spans)
    gold = {"language": lang, "sentiment": tone, "intents": intents,
            "pii": b.spans, "move_private": public and (has_pii or bool(ACCOUNT_INTENTS & set(intents))),
            "competitor": competitor, "legal": legal}
    for sp in b.spans:  # offsets must point at the value in the final text
        assert text[sp["start"]:sp["end"]].strip() == text[sp["start"]:sp["end"]], (text, sp)
    return {"id": "eval-%s-%04d" % (lang, index), "text": text, "channel": channel,
            "public": public, "followers": int(rng.lognormvariate(5, 1.8)) if public else 0,
            "gold": gold}


def fix_spans(m):
    """Spans were computed on the joined parts; the email close replaces a
    space by nothing, which never precedes a span, so they hold. Checked."""
    for sp in m["gold"]["pii"]:
        value = m["text"][sp["start"]:sp["end"]]
        assert value and not value[0].isspace() and not value[-1].isspace(), (m, sp)
    return m


# ------------------------------------------------------------ other sets

def lang_only(rng):
    out = []
    for lang, sentences in sorted(eval_text.LANG_ONLY.items()):
        for k in range(LANG_ONLY_PER_LANG):
            a, b = rng.sample(sentences, 2)
            text = a if rng.random() < 0.5 else a + " " + b
            if rng.random() < 0.3:
                text = "@%s %s" % (rng.choice(BRANDS), text)
            if rng.random() < 0.2:
                text += " " + rng.choice(["🙏", "😡", "👍", "https://example.com/help"])
            out.append({"id": "lang-%s-%03d" % (lang, k), "text": text,
                        "gold": {"language": lang}})
    return out


# corpus/make_corpus.py's TEST_CARDS (well-known Luhn-valid test numbers)
SAMPLE_CARDS = {"4111111111111111", "4242424242424242", "5555555555554444",
                "5105105105105100", "378282246310005", "6011111111111117",
                "4012888888881881", "2223003122003222", "371449635398431",
                "5200828282828210"}
SAMPLE_INTENT = {"delay": "delay", "cancellation": "cancellation", "baggage": "baggage",
                 "refund": "refund", "booking_change": "rebooking", "app": "outage",
                 "praise": "praise", "onboard": "complaint", "disruption": "disruption",
                 "ticketing": "billing", "lost_property": "lost_property",
                 "accessibility": "complaint", "delivery": "delivery",
                 "wrong_item": "wrong_item", "billing": "billing",
                 "product_question": None}


CARD_RUN = re.compile(r"\d(?:[ .\-]?\d){12,18}")
IBAN_RUN = re.compile(r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}")


def sample_pii(text, tags):
    """Gold card and IBAN spans of a sample message: the make_corpus test
    cards (any grouping) and the mod-97-valid IBANs its tags announce."""
    spans = []
    if "card" in tags:
        for m in CARD_RUN.finditer(text):
            digits = re.sub(r"\D", "", m.group())
            if digits in SAMPLE_CARDS:
                spans.append({"type": "card", "start": m.start(), "end": m.end()})
    if "iban" in tags:
        for m in IBAN_RUN.finditer(text):
            raw = m.group().replace(" ", "")
            for end in range(len(raw), 14, -1):  # longest valid prefix
                cand = raw[:end]
                if int("".join(str(int(c, 36)) for c in cand[4:] + cand[:4])) % 97 == 1:
                    stop = m.start() + len(" ".join(cand[i:i + 4] for i in range(0, len(cand), 4))) \
                        if " " in m.group() else m.start() + end
                    spans.append({"type": "iban", "start": m.start(), "end": stop})
                    break
    return sorted(spans, key=lambda s: s["start"])


def convert_sample(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            tags = e.get("sbtags", "").split(",")
            gold = {"language": e["sblang"]}
            if "followup" not in tags:
                gold["sentiment"] = "negative" if "negative" in tags else \
                    "positive" if "positive" in tags else "neutral"
                topic = SAMPLE_INTENT.get(e["sbtopic"])
                gold["top_intent"] = topic
            gold["competitor"] = "competitor" in tags
            gold["pii"] = sample_pii(e["data"]["text"], tags)
            gold["pii_types"] = ["card", "iban"]  # only these are labelled
            out.append({"id": e["id"], "text": e["data"]["text"], "channel": e["data"]["channel"],
                        "public": e["data"]["public"], "customer": e["data"]["customer"],
                        "followers": e["data"]["author"]["followers"], "tenant": e["tenant"],
                        "time_ms": iso_ms(e["time"]), "gold": gold})
    return out


def iso_ms(s):
    import datetime
    d = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp() * 1000)


def write(path, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
    print("%s: %d lines" % (path, len(rows)))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    rng = random.Random(SEED)
    rows = []
    for lang in ["en", "fr", "de", "es", "nl", "it", "pt"]:
        t = eval_text.TEXT[lang]
        rows.extend(fix_spans(message(rng, lang, t, i)) for i in range(PER_LANG))
    write(os.path.join(here, "eval.jsonl"), rows)
    write(os.path.join(here, "eval_langs.jsonl"), lang_only(rng))
    sample = os.path.join(here, "..", "..", "corpus", "sample.jsonl")
    write(os.path.join(here, "sample_eval.jsonl"), convert_sample(sample))


if __name__ == "__main__":
    main()
