#!/usr/bin/python3
"""make_corpus: writes corpus/sample.jsonl, the bundled sample of customer
messages that `sbctl up --replay` feeds through switchboard.

One CloudEvents 1.0 JSON object per line, type "com.switchboard.interaction",
sorted by time over one day (2026-03-17, UTC), for three tenants: acme-air
(airline), citytransit (city transport) and shopco (retail). The data member
matches sb_interaction_data_parse (common/sb_cloudevent.h).

Gold labels travel as CloudEvents extension attributes, which switchboard
ignores: "sblang" (language written), "sbtopic" (what the customer is about)
and "sbtags" (comma list of: negative, positive, card, iban, pnr, competitor,
followup, dm). Classifier tests score themselves against them.

Invariants: deterministic (one seeded random.Random, no set iteration, no
clock), standard library only, every id unique, every card number Luhn-valid
(well-known test numbers), every IBAN passes mod-97, every phone number and
e-mail address fictional (drama ranges, example.* domains). All sentences
were written for this project.

Usage: /usr/bin/python3 corpus/make_corpus.py [output.jsonl]
"""

import datetime
import json
import os
import random
import sys
import unicodedata
import uuid

SEED = 20260317
DAY = datetime.datetime(2026, 3, 17, tzinfo=datetime.timezone.utc)
TARGET_MESSAGES = 2600
SHARE = {"card": 0.05, "iban": 0.03, "pnr": 0.08, "competitor": 0.05,
         "negative": 0.15}

# ----------------------------------------------------------------- tenants

TENANTS = {
    "acme-air": {
        "brand": "Acme Air", "handle": "AcmeAir",
        "competitors": ["FlyNow", "SkyBudget"],
        "langs": {"en": 34, "fr": 12, "de": 12, "es": 12, "nl": 8, "it": 12,
                  "pt": 10},
        "weight": 45,
        "accounts": {"x": "acmeair", "facebook": "acmeair",
                     "messenger": "acmeair", "instagram": "acmeair",
                     "whatsapp": "+442079460100",
                     "email": "care@acme-air.example",
                     "webchat": "acme-air.example", "sms": "+447700900100"},
        "page_id": "104729384756120",
    },
    "citytransit": {
        "brand": "CityTransit", "handle": "CityTransit",
        "competitors": ["MetroPlus"],
        "langs": {"en": 30, "fr": 30, "nl": 30, "de": 10},
        "weight": 25,
        "accounts": {"x": "citytransit", "facebook": "citytransit",
                     "messenger": "citytransit", "instagram": "citytransit",
                     "whatsapp": "+442079460200",
                     "email": "help@citytransit.example",
                     "webchat": "citytransit.example",
                     "sms": "+447700900200"},
        "page_id": "100938271645502",
    },
    "shopco": {
        "brand": "ShopCo", "handle": "ShopCo",
        "competitors": ["ShopRival"],
        "langs": {"en": 32, "de": 18, "es": 14, "it": 12, "pt": 10, "fr": 8,
                  "nl": 6},
        "weight": 30,
        "accounts": {"x": "shopco", "facebook": "shopco",
                     "messenger": "shopco", "instagram": "shopco",
                     "whatsapp": "+442079460300",
                     "email": "support@shopco.example",
                     "webchat": "shopco.example", "sms": "+447700900300"},
        "page_id": "109283746501928",
    },
}

CHANNELS = {"x": 22, "facebook": 10, "messenger": 10, "whatsapp": 15,
            "instagram": 8, "email": 15, "webchat": 12, "sms": 8}
PUBLIC_SHARE = {"x": 0.8, "facebook": 0.85, "instagram": 0.7}
DM_CHANNEL = {"x": "x", "facebook": "messenger", "instagram": "instagram"}

# topic -> (weight, tone): tone "complaint" may turn negative, "praise" is
# positive, "question" stays neutral.
TOPICS = {
    "acme-air": {"delay": (14, "complaint"), "cancellation": (10, "complaint"),
                 "baggage": (12, "complaint"), "refund": (10, "complaint"),
                 "booking_change": (9, "question"), "app": (8, "complaint"),
                 "praise": (8, "praise"), "onboard": (6, "complaint")},
    "citytransit": {"delay": (16, "complaint"), "disruption": (10, "complaint"),
                    "ticketing": (12, "complaint"), "app": (8, "complaint"),
                    "lost_property": (6, "question"),
                    "accessibility": (6, "complaint"), "praise": (8, "praise")},
    "shopco": {"delivery": (16, "complaint"), "wrong_item": (10, "complaint"),
               "refund": (11, "complaint"), "billing": (10, "complaint"),
               "app": (8, "complaint"), "praise": (8, "praise"),
               "product_question": (9, "question")},
}

# Bursts: a storm grounds flights, a signal failure stops the metro, the
# shop's checkout goes down. (tenant, start, end, extra conversations, topics)
INCIDENTS = [
    ("acme-air", "05:30", "09:30", 120, ["delay", "cancellation"]),
    ("citytransit", "07:20", "08:40", 80, ["disruption", "delay"]),
    ("shopco", "13:05", "14:10", 70, ["app", "billing"]),
]

HOURLY = [1, 1, 1, 1, 1, 2, 4, 7, 9, 8, 7, 6, 6, 6, 6, 6, 7, 8, 8, 7, 5, 4, 3,
          2]

# -------------------------------------------------------------------- text
# Every language: openers/closers (neutral and negative), one list of body
# templates per tenant topic, follow-ups, and sentences that carry a booking
# reference, a card number, an IBAN or a competitor. Slots in {braces}.

TEXT = {}

TEXT["en"] = {
    "sent_dm": "I've sent you a DM.",
    "open": ["Hi!", "Hello!", "Hi there!", "Good morning.", "Hey!",
             "Quick question."],
    "close": ["Thanks.", "Thanks in advance!", "Can someone help?",
              "Any help appreciated.", "Please advise.", "Cheers."],
    "open_neg": ["Unbelievable.", "Seriously?", "This is a joke.",
                 "I am furious.", "Absolutely fed up.", "Again?!"],
    "close_neg": ["Worst service ever.", "Never again.", "Sort it out!",
                  "Disgraceful.", "I want a real answer, not a bot.",
                  "Shocking customer service."],
    "email_open": "Dear {brand} team,", "email_close": "Kind regards,",
    "acme-air": {
        "delay": [
            "My flight {flight} to {dest} is delayed by {hours} hours and nobody at the gate knows anything.",
            "Flight {flight} shows delayed again. Will I make my connection in {hub}?",
            "We've been sitting on the plane at the gate for {minutes} minutes on {flight}, any update?",
            "Is {flight} from {origin} still expected to leave today? The board just says delayed.",
            "Third delay notification in an hour for {flight}. What is actually going on?",
            "The app says {flight} leaves at {clock} but the screens at {origin} say something else. Which one is right?"],
        "cancellation": [
            "{flight} to {dest} just got cancelled. How do I get rebooked?",
            "You cancelled my flight to {dest} with no email, no text, nothing. What are my options?",
            "My flight was cancelled and the app offers me a seat in {days} days. That doesn't work for me.",
            "Our flight home from {origin} was cancelled. Are you covering a hotel tonight?",
            "Got a cancellation text for {flight} at 3am. Is there any other flight to {dest} today?"],
        "baggage": [
            "My suitcase didn't arrive in {dest} on {flight}. I filed a report at the desk, how long does it usually take?",
            "Still no sign of my bag after {days} days. The tracking page hasn't changed once.",
            "Landed in {dest}, and apparently my bag is still in {origin}. It has my medication in it.",
            "My stroller came off the belt broken. Who do I contact about damaged luggage?",
            "The handle of my suitcase was ripped off on {flight}. How do I claim for the damage?"],
        "refund": [
            "I requested a refund for my cancelled flight {weeks} weeks ago and haven't heard back.",
            "Can I get a refund instead of a voucher for my flight to {dest}?",
            "The refund of {amount} still hasn't reached my account.",
            "You refunded the fare but not the seat reservation and the bag fee. Can you check?"],
        "booking_change": [
            "How much does it cost to change my flight to {dest} to a day later?",
            "I misspelled my name on the booking, can you correct it?",
            "Can I add a checked bag to my booking after paying?",
            "Is it possible to swap my return flight from {dest} to the morning one?",
            "Travelling with a guide dog to {dest} next month. What do I need to arrange?"],
        "app": [
            "The app keeps crashing when I try to check in for {flight}.",
            "Online check-in says 'error 500' for me. Is the website down?",
            "My boarding pass won't load in the app and I'm already at the airport.",
            "I can't log in to my account, the password reset email never arrives.",
            "Paid for seats in the app, money gone, but the booking shows no seats."],
        "praise": [
            "Huge thanks to the crew on {flight} to {dest}, they were lovely with my kids.",
            "Just wanted to say the ground staff in {origin} sorted out my rebooking in five minutes. Great job.",
            "Smooth flight, on time, friendly crew. More of this please!",
            "Your agent on the chat yesterday was brilliant, found my lost bag in no time.",
            "First time flying with you to {dest} and honestly impressed. Thank you!"],
        "onboard": [
            "The crew on {flight} were rude when I asked for water.",
            "Paid for extra legroom on {flight} and got moved to row {row} without explanation.",
            "No vegetarian meal on {flight} even though I pre-ordered it.",
            "The toilets on {flight} were out of order for the whole flight to {dest}."],
    },
    "citytransit": {
        "delay": [
            "Bus {bus} hasn't shown up for {minutes} minutes at {station}. Is it running?",
            "Tram {tram} is stuck before {station} again, what's happening?",
            "Delays on metro line {metro} every single morning this week.",
            "The display at {station} says 2 minutes for the last {minutes} minutes.",
            "Missed my train because bus {bus} left {station} early. Not OK."],
        "disruption": [
            "Is there a strike today? No trains at {station}.",
            "Signal failure again on line {metro}? The app says nothing.",
            "Everyone has been told to get off at {station}. Is there a replacement bus?",
            "Line {metro} closed and not a single announcement on the platform."],
        "ticketing": [
            "I was charged twice for one trip with contactless this morning ({amount}).",
            "My monthly pass doesn't scan at the gates at {station}.",
            "Can I get a refund for the unused part of my annual pass?",
            "The ticket machine at {station} took my money and gave no ticket."],
        "app": [
            "The ticket app won't open, I can't buy a ticket.",
            "Your journey planner shows a bus that doesn't exist.",
            "The live times in the app are completely wrong today."],
        "lost_property": [
            "I left my {item} on bus {bus} around {clock}. Has anyone handed it in?",
            "Lost my {item} on tram {tram} this morning. Where is lost property?"],
        "accessibility": [
            "The lift at {station} is out of order again, I can't get to the platform with my wheelchair.",
            "The ramp on bus {bus} didn't work and the driver just drove off."],
        "praise": [
            "Shout-out to the driver of bus {bus} who waited for me this morning. Made my day.",
            "Trams were perfectly on time all week, thank you!",
            "Staff at {station} were so helpful when my mum got lost. Thank you."],
    },
    "shopco": {
        "delivery": [
            "My order {order} was supposed to arrive {days} days ago. Tracking hasn't moved.",
            "The courier marked my parcel as delivered but there's nothing here.",
            "Order {order} has been 'out for delivery' since Friday.",
            "Can you deliver to a pickup point instead? Order {order}."],
        "wrong_item": [
            "Received the wrong size for order {order} ({product}). How do I exchange it?",
            "Opened the box and the {product} is damaged.",
            "I ordered the {product} in black and got a pink one."],
        "refund": [
            "I returned order {order} {weeks} weeks ago and still no refund.",
            "How long do refunds take to show up on my card?",
            "The return label you sent me doesn't work at the post office."],
        "billing": [
            "I was charged twice for order {order} ({amount} each).",
            "Why is there an extra charge of {amount} on my statement?",
            "The discount code wasn't applied at checkout but I was charged {amount} anyway."],
        "app": [
            "Checkout keeps failing with 'payment error', is the site down?",
            "The app logs me out every time I add something to the basket.",
            "Your website has been down for half an hour, I can't place my order."],
        "praise": [
            "Order arrived the next day, well packed. Love it!",
            "Your support team sorted my exchange in minutes, thank you.",
            "The {product} is even better than in the pictures. Great shop."],
        "product_question": [
            "Is the {product} back in stock anytime soon?",
            "Does the {product} come with a warranty?",
            "What are the dimensions of the {product}?"],
    },
    "followup": {
        "neutral": ["Any update on this?", "Still waiting for a reply...",
                     "OK, I've filled in the form you sent me.",
                    "Just checking you got my message?"],
        "negative": ["It's been {hours} hours and nobody has answered.",
                     "Hello? Is anyone actually reading these?",
                     "Still nothing. Pathetic."],
        "thanks": ["Thanks, that worked!", "All sorted now, thank you.",
                   "Got it, much appreciated."],
    },
    "dm_intro": ["Following up on my post.", "Here are the details you asked for.",
                 "As requested, sending this privately."],
    "pnr": ["Booking ref {pnr}.", "My booking ref is {pnr}.",
            "Booking reference: {pnr}", "(booking ref {pnr})"],
    "card": ["I paid with card {card}.", "The card charged was {card}.",
             "Card number {card}, please check."],
    "iban": ["Please send the refund to IBAN {iban}.", "My IBAN is {iban}.",
             "You can transfer it to {iban}."],
    "competitor": ["Next time I'm going with {comp}.",
                   "{comp} would never treat customers like this.",
                   "Honestly thinking about switching to {comp}.",
                   "Even {comp} answers faster than you."],
    "cities": ["London", "Paris", "Madrid", "Rome", "Amsterdam", "Lisbon",
               "Berlin", "Barcelona", "Milan", "Porto", "Nice", "Munich",
               "Brussels", "Vienna"],
    "items": ["backpack", "umbrella", "scarf", "laptop", "wallet"],
    "products": ["wireless headphones", "running shoes", "coffee machine",
                 "winter jacket", "phone case", "blender", "backpack",
                 "desk lamp", "kids' raincoat", "yoga mat"],
    "names": (["Emma", "Oliver", "Sophie", "Jack", "Aisha", "Tom", "Grace",
               "Ravi", "Chloe", "Liam", "Hannah", "Daniel"],
              ["Smith", "Taylor", "Brown", "Wilson", "Patel", "Evans",
               "Walker", "Hughes", "Khan", "Murphy", "Clarke", "Wright"]),
    "phone": ("+447700900", 3),
}

TEXT["fr"] = {
    "sent_dm": "Je vous ai envoyé un message privé.",
    "open": ["Bonjour !", "Bonsoir.", "Salut !", "Bonjour à tous.", "Bonjour."],
    "close": ["Merci d'avance.", "Merci de votre aide.",
              "Quelqu'un peut m'aider ?", "Cordialement.", "Merci !"],
    "open_neg": ["C'est inadmissible.", "Franchement, ras-le-bol.",
                 "Incroyable.", "Je suis furieux.", "Encore une fois !"],
    "close_neg": ["Service client lamentable.", "Plus jamais.", "Honteux.",
                  "J'attends une vraie réponse, pas un robot.",
                  "Réglez ça maintenant !"],
    "email_open": "Madame, Monsieur,", "email_close": "Cordialement,",
    "acme-air": {
        "delay": [
            "Mon vol {flight} pour {dest} a {hours} heures de retard et personne à la porte ne sait rien.",
            "Le vol {flight} est encore affiché en retard. Est-ce que j'aurai ma correspondance à {hub} ?",
            "On attend dans l'avion depuis {minutes} minutes sur le {flight}, des nouvelles ?",
            "L'appli annonce un départ à {clock} pour le {flight} mais les écrans de l'aéroport disent autre chose. Qui croire ?"],
        "cancellation": [
            "Le vol {flight} pour {dest} vient d'être annulé. Comment je fais pour être replacé ?",
            "Vous avez annulé mon vol pour {dest} sans mail, sans SMS, rien. Quelles sont mes options ?",
            "Vol annulé et l'appli me propose une place dans {days} jours. Ce n'est pas possible pour moi.",
            "Notre vol retour depuis {origin} est annulé. Vous prenez en charge l'hôtel ce soir ?"],
        "baggage": [
            "Ma valise n'est pas arrivée à {dest} avec le vol {flight}. J'ai fait une déclaration au comptoir, combien de temps ça prend d'habitude ?",
            "Toujours aucune trace de mon bagage après {days} jours.",
            "Ma poussette est sortie cassée du tapis. Qui dois-je contacter ?",
            "Arrivé à {dest}, ma valise est visiblement restée à {origin}. Il y a mes médicaments dedans."],
        "refund": [
            "J'ai demandé le remboursement de mon vol annulé il y a {weeks} semaines et toujours rien.",
            "Est-ce que je peux avoir un remboursement au lieu d'un avoir pour mon vol vers {dest} ?",
            "Le remboursement de {amount} n'est toujours pas arrivé sur mon compte."],
        "booking_change": [
            "Combien coûte le changement de mon vol pour {dest} au lendemain ?",
            "J'ai fait une faute dans mon nom sur la réservation, pouvez-vous la corriger ?",
            "Est-ce qu'on peut ajouter un bagage en soute après le paiement ?"],
        "app": [
            "L'appli plante à chaque fois que j'essaie de m'enregistrer pour le vol {flight}.",
            "L'enregistrement en ligne affiche « erreur 500 ». Le site est en panne ?",
            "Ma carte d'embarquement ne s'affiche pas dans l'appli et je suis déjà à l'aéroport."],
        "praise": [
            "Un grand merci à l'équipage du vol {flight} pour {dest}, adorables avec mes enfants.",
            "Vol à l'heure, équipage souriant, rien à redire. Bravo !",
            "Le personnel au sol à {origin} a réglé mon changement en cinq minutes. Top."],
        "onboard": [
            "L'équipage du {flight} a été désagréable quand j'ai demandé de l'eau.",
            "J'ai payé un siège avec plus d'espace sur le {flight} et on m'a mis au rang {row} sans explication.",
            "Pas de repas végétarien sur le {flight} alors que je l'avais commandé."],
    },
    "citytransit": {
        "delay": [
            "Le bus {bus} n'est pas passé depuis {minutes} minutes à l'arrêt {station}. Il circule ?",
            "Le tram {tram} est encore bloqué avant {station}, qu'est-ce qui se passe ?",
            "Des retards sur la ligne de métro {metro} tous les matins cette semaine.",
            "L'afficheur à {station} indique « 2 min » depuis {minutes} minutes."],
        "disruption": [
            "Il y a une grève aujourd'hui ? Aucun métro à {station}.",
            "Encore une panne de signalisation sur la ligne {metro} ? L'appli n'indique rien.",
            "On nous a tous fait descendre à {station}. Il y a un bus de remplacement ?"],
        "ticketing": [
            "On m'a débité deux fois un seul trajet en sans contact ce matin ({amount}).",
            "Mon abonnement mensuel ne passe pas aux portiques de {station}.",
            "Est-ce que je peux me faire rembourser la partie non utilisée de mon abonnement annuel ?",
            "Le distributeur de {station} a pris mon argent sans donner de ticket."],
        "app": [
            "L'appli billets ne s'ouvre plus, impossible d'acheter un ticket.",
            "Votre calculateur d'itinéraire m'indique un bus qui n'existe pas."],
        "lost_property": [
            "J'ai oublié mon {item} dans le bus {bus} vers {clock}. Quelqu'un l'a rapporté ?",
            "Perdu mon {item} dans le tram {tram} ce matin. Où se trouvent les objets trouvés ?"],
        "accessibility": [
            "L'ascenseur de {station} est encore en panne, impossible d'accéder au quai en fauteuil.",
            "La rampe du bus {bus} ne fonctionnait pas et le chauffeur est reparti."],
        "praise": [
            "Merci au chauffeur du bus {bus} qui m'a attendu ce matin. Ça m'a fait plaisir.",
            "Les trams étaient parfaitement à l'heure toute la semaine, merci !"],
    },
    "shopco": {
        "delivery": [
            "Ma commande {order} devait arriver il y a {days} jours. Le suivi ne bouge plus.",
            "Le livreur a indiqué le colis comme livré mais je n'ai rien reçu."],
        "wrong_item": [
            "Mauvaise taille reçue pour la commande {order} ({product}). Comment faire un échange ?",
            "J'ai ouvert le carton et l'article est abîmé ({product})."],
        "refund": [
            "J'ai renvoyé la commande {order} il y a {weeks} semaines et toujours pas de remboursement.",
            "Combien de temps faut-il pour voir le remboursement sur ma carte ?"],
        "billing": [
            "J'ai été débité deux fois pour la commande {order} ({amount} chaque fois).",
            "Pourquoi y a-t-il un prélèvement supplémentaire de {amount} sur mon relevé ?"],
        "app": [
            "Le paiement échoue à chaque fois avec « erreur de paiement », le site est en panne ?",
            "L'appli me déconnecte dès que j'ajoute un article au panier."],
        "praise": [
            "Commande arrivée le lendemain, bien emballée. Parfait !",
            "Votre service client a réglé mon échange en quelques minutes, merci."],
        "product_question": [
            "Est-ce que l'article « {product} » sera bientôt de nouveau en stock ?",
            "L'article « {product} » est-il garanti ?"],
    },
    "followup": {
        "neutral": ["Des nouvelles ?", "Toujours en attente d'une réponse...",
                    
                    "J'ai rempli le formulaire que vous m'avez envoyé."],
        "negative": ["Ça fait {hours} heures et toujours personne.",
                     "Allô ? Quelqu'un lit ces messages ?",
                     "Toujours rien. Lamentable."],
        "thanks": ["Merci, c'est réglé !", "Super, ça a marché, merci."],
    },
    "dm_intro": ["Suite à mon message public.", "Voici les infos demandées."],
    "pnr": ["Référence de réservation : {pnr}.", "Ma réf. de réservation est {pnr}.",
            "Numéro de réservation {pnr}."],
    "card": ["J'ai payé avec la carte {card}.", "La carte débitée est la {card}.",
             "Numéro de carte {card}, merci de vérifier."],
    "iban": ["Merci de faire le virement sur l'IBAN {iban}.", "Mon IBAN : {iban}.",
             "Vous pouvez rembourser sur {iban}."],
    "competitor": ["La prochaine fois, je passe chez {comp}.",
                   "{comp} ne traiterait jamais ses clients comme ça.",
                   "Je pense sérieusement à passer chez {comp}.",
                   "Même {comp} répond plus vite que vous."],
    "cities": ["Londres", "Paris", "Madrid", "Rome", "Amsterdam", "Lisbonne",
               "Berlin", "Barcelone", "Milan", "Porto", "Nice", "Munich",
               "Bruxelles", "Vienne"],
    "items": ["sac à dos", "parapluie", "écharpe", "ordinateur portable",
              "portefeuille"],
    "products": ["casque sans fil", "chaussures de running", "machine à café",
                 "veste d'hiver", "coque de téléphone", "blender", "sac à dos",
                 "lampe de bureau", "imperméable enfant", "tapis de yoga"],
    "names": (["Camille", "Lucas", "Léa", "Hugo", "Manon", "Louis", "Chloé",
               "Nathan", "Inès", "Julien", "Sarah", "Mehdi"],
              ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit",
               "Durand", "Leroy", "Moreau", "Fournier", "Girard", "Lambert"]),
    "phone": ("+3363998", 4),
}

TEXT["de"] = {
    "sent_dm": "Ich habe euch eine DM geschickt.",
    "open": ["Hallo!", "Guten Morgen.", "Guten Tag.", "Hi!", "Servus!"],
    "close": ["Danke im Voraus.", "Vielen Dank!", "Kann mir jemand helfen?",
              "Viele Grüße.", "Danke für die Hilfe."],
    "open_neg": ["Unfassbar.", "Jetzt reicht's.", "Ernsthaft?",
                 "Ich bin stinksauer.", "Schon wieder!"],
    "close_neg": ["Schlechtester Service überhaupt.", "Nie wieder.",
                  "Eine Frechheit.", "Ich will eine echte Antwort, keinen Bot.",
                  "Kümmert euch endlich darum!"],
    "email_open": "Sehr geehrte Damen und Herren,",
    "email_close": "Mit freundlichen Grüßen",
    "acme-air": {
        "delay": [
            "Mein Flug {flight} nach {dest} hat {hours} Stunden Verspätung und am Gate weiß niemand Bescheid.",
            "Flug {flight} wird schon wieder als verspätet angezeigt. Schaffe ich meinen Anschluss in {hub}?",
            "Wir sitzen seit {minutes} Minuten im Flieger am Gate ({flight}), gibt es Neuigkeiten?",
            "Laut App geht {flight} um {clock}, laut Anzeigetafel später. Was stimmt denn nun?"],
        "cancellation": [
            "Flug {flight} nach {dest} wurde gerade gestrichen. Wie werde ich umgebucht?",
            "Ihr habt meinen Flug nach {dest} annulliert, ohne Mail, ohne SMS. Welche Möglichkeiten habe ich?",
            "Flug storniert und die App bietet mir einen Platz in {days} Tagen an. Das geht so nicht.",
            "Unser Rückflug ab {origin} fällt aus. Übernehmt ihr heute Nacht das Hotel?"],
        "baggage": [
            "Mein Koffer ist mit {flight} nicht in {dest} angekommen. Ich habe am Schalter eine Verlustmeldung gemacht, wie lange dauert das normalerweise?",
            "Nach {days} Tagen immer noch keine Spur von meinem Gepäck.",
            "Mein Kinderwagen kam kaputt vom Band. An wen wende ich mich?",
            "Gelandet in {dest}, mein Koffer ist anscheinend noch in {origin}. Da sind meine Medikamente drin."],
        "refund": [
            "Ich habe vor {weeks} Wochen die Erstattung für meinen gestrichenen Flug beantragt und nichts gehört.",
            "Kann ich statt eines Gutscheins mein Geld zurückbekommen? Es geht um den Flug nach {dest}.",
            "Die Erstattung über {amount} ist immer noch nicht auf meinem Konto."],
        "booking_change": [
            "Was kostet es, meinen Flug nach {dest} um einen Tag zu verschieben?",
            "Ich habe mich bei der Buchung im Namen vertippt, könnt ihr das korrigieren?",
            "Kann ich nach der Zahlung noch ein Aufgabegepäck hinzubuchen?"],
        "app": [
            "Die App stürzt jedes Mal ab, wenn ich für {flight} einchecken will.",
            "Der Online-Check-in zeigt „Fehler 500“. Ist die Website down?",
            "Meine Bordkarte lädt nicht in der App und ich stehe schon am Flughafen."],
        "praise": [
            "Ein großes Dankeschön an die Crew von {flight} nach {dest}, super lieb zu meinen Kindern.",
            "Pünktlich, freundliche Crew, alles bestens. Weiter so!",
            "Das Bodenpersonal in {origin} hat meine Umbuchung in fünf Minuten erledigt. Top."],
        "onboard": [
            "Die Crew auf {flight} war unfreundlich, als ich um Wasser gebeten habe.",
            "Ich habe für mehr Beinfreiheit bezahlt und wurde auf {flight} ohne Erklärung in Reihe {row} gesetzt.",
            "Kein vegetarisches Essen auf {flight}, obwohl ich es vorbestellt hatte."],
    },
    "citytransit": {
        "delay": [
            "Bus {bus} ist seit {minutes} Minuten nicht an der Haltestelle {station} gekommen. Fährt der überhaupt?",
            "Die Tram {tram} steht schon wieder vor {station}, was ist los?",
            "Jeden Morgen diese Woche Verspätungen auf der U-Bahn-Linie {metro}."],
        "disruption": [
            "Wird heute gestreikt? Keine Bahn in {station}.",
            "Schon wieder Signalstörung auf Linie {metro}? In der App steht nichts.",
            "Alle mussten in {station} aussteigen. Gibt es Ersatzverkehr?"],
        "ticketing": [
            "Mir wurde heute früh eine Fahrt zweimal kontaktlos abgebucht ({amount}).",
            "Meine Monatskarte funktioniert an den Sperren in {station} nicht.",
            "Bekomme ich Geld für den ungenutzten Teil meines Jahresabos zurück?"],
        "app": [
            "Die Ticket-App öffnet sich nicht mehr, ich kann kein Ticket kaufen.",
            "Eure Fahrplanauskunft zeigt einen Bus an, den es gar nicht gibt."],
        "lost_property": [
            "Ich habe gegen {clock} Uhr meinen {item} im Bus {bus} liegen lassen. Hat ihn jemand abgegeben?"],
        "accessibility": [
            "Der Aufzug in {station} ist schon wieder kaputt, mit dem Rollstuhl komme ich nicht zum Bahnsteig."],
        "praise": [
            "Danke an den Fahrer vom Bus {bus}, der heute Morgen auf mich gewartet hat!",
            "Die Trams waren die ganze Woche pünktlich, danke!"],
    },
    "shopco": {
        "delivery": [
            "Meine Bestellung {order} sollte vor {days} Tagen ankommen. Die Sendungsverfolgung bewegt sich nicht.",
            "Der Paketdienst hat das Paket als zugestellt markiert, aber hier ist nichts angekommen.",
            "Bestellung {order} ist seit Freitag „in Zustellung“."],
        "wrong_item": [
            "Falsche Größe bei Bestellung {order} ({product}) erhalten. Wie funktioniert der Umtausch?",
            "Karton geöffnet und der Artikel ist beschädigt ({product})."],
        "refund": [
            "Ich habe die Bestellung {order} vor {weeks} Wochen zurückgeschickt und noch keine Erstattung bekommen.",
            "Wie lange dauert es, bis die Erstattung auf meiner Karte ist?"],
        "billing": [
            "Mir wurde die Bestellung {order} zweimal abgebucht (je {amount}).",
            "Warum steht eine zusätzliche Abbuchung von {amount} auf meinem Kontoauszug?"],
        "app": [
            "Der Checkout bricht immer mit „Zahlungsfehler“ ab, ist die Seite down?",
            "Die App meldet mich jedes Mal ab, wenn ich etwas in den Warenkorb lege."],
        "praise": [
            "Bestellung kam am nächsten Tag, super verpackt. Klasse!",
            "Euer Kundenservice hat meinen Umtausch in ein paar Minuten erledigt, danke."],
        "product_question": [
            "Ist der Artikel „{product}“ bald wieder lieferbar?",
            "Gibt es auf den Artikel „{product}“ eine Garantie?"],
    },
    "followup": {
        "neutral": ["Gibt es schon was Neues?", "Warte immer noch auf eine Antwort...",
                    
                    "Ich habe das Formular ausgefüllt, das ihr mir geschickt habt."],
        "negative": ["Seit {hours} Stunden keine Antwort.",
                     "Hallo? Liest das hier überhaupt jemand?",
                     "Immer noch nichts. Peinlich."],
        "thanks": ["Danke, hat geklappt!", "Super, ist erledigt. Danke euch."],
    },
    "dm_intro": ["Wie gewünscht per DM:", "Hier die Infos, nach denen ihr gefragt habt."],
    "pnr": ["Buchungsnummer: {pnr}.", "Meine Buchungsreferenz ist {pnr}.",
            "Buchungscode {pnr}."],
    "card": ["Bezahlt habe ich mit der Karte {card}.",
             "Belastet wurde die Karte {card}.", "Kartennummer {card}, bitte prüfen."],
    "iban": ["Bitte überweist die Erstattung auf IBAN {iban}.",
             "Meine IBAN lautet {iban}.", "Ihr könnt es auf {iban} überweisen."],
    "competitor": ["Nächstes Mal nehme ich {comp}.",
                   "{comp} würde seine Kunden nie so behandeln.",
                   "Ich überlege ernsthaft, zu {comp} zu wechseln.",
                   "Sogar {comp} antwortet schneller als ihr."],
    "cities": ["London", "Paris", "Madrid", "Rom", "Amsterdam", "Lissabon",
               "Berlin", "Barcelona", "Mailand", "Porto", "Nizza", "München",
               "Brüssel", "Wien"],
    "items": ["Rucksack", "Regenschirm", "Schal", "Laptop", "Geldbeutel"],
    "products": ["Kabellose Kopfhörer", "Laufschuhe", "Kaffeemaschine",
                 "Winterjacke", "Handyhülle", "Standmixer", "Rucksack",
                 "Schreibtischlampe", "Kinder-Regenjacke", "Yogamatte"],
    "names": (["Lena", "Jonas", "Mia", "Leon", "Hannah", "Felix", "Lea",
               "Paul", "Emily", "Lukas", "Sophie", "Can"],
              ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer",
               "Wagner", "Becker", "Schulz", "Hoffmann", "Koch", "Yilmaz"]),
    "phone": ("+4915550", 6),
}

TEXT["es"] = {
    "sent_dm": "Os he mandado un mensaje privado.",
    "open": ["¡Hola!", "Buenos días.", "Buenas tardes.", "¡Buenas!", "Hola."],
    "close": ["Gracias de antemano.", "¡Gracias!", "¿Alguien me puede ayudar?",
              "Un saludo.", "Gracias por la ayuda."],
    "open_neg": ["Increíble.", "Ya está bien.", "¿En serio?",
                 "Estoy indignado.", "¡Otra vez!"],
    "close_neg": ["El peor servicio que he visto.", "Nunca más.",
                  "Una vergüenza.", "Quiero una respuesta de verdad, no de un bot.",
                  "¡Arreglen esto ya!"],
    "email_open": "Estimados señores:", "email_close": "Atentamente,",
    "acme-air": {
        "delay": [
            "Mi vuelo {flight} a {dest} lleva {hours} horas de retraso y en la puerta nadie sabe nada.",
            "El vuelo {flight} vuelve a aparecer con retraso. ¿Llegaré a mi conexión en {hub}?",
            "Llevamos {minutes} minutos sentados en el avión en la puerta ({flight}), ¿alguna novedad?",
            "La app dice que el {flight} sale a las {clock} y las pantallas dicen otra cosa. ¿Cuál es la buena?"],
        "cancellation": [
            "Acaban de cancelar el vuelo {flight} a {dest}. ¿Cómo me recolocan?",
            "Habéis cancelado mi vuelo a {dest} sin avisar, ni correo ni SMS. ¿Qué opciones tengo?",
            "Vuelo cancelado y la app me ofrece plaza dentro de {days} días. Así no me sirve.",
            "Nos han cancelado el vuelo de vuelta desde {origin}. ¿Cubrís el hotel esta noche?"],
        "baggage": [
            "Mi maleta no llegó a {dest} en el vuelo {flight}. Puse la reclamación en el mostrador, ¿cuánto suele tardar?",
            "Después de {days} días sigo sin saber nada de mi equipaje.",
            "El carrito del bebé salió roto de la cinta. ¿A quién me dirijo?",
            "He aterrizado en {dest} y por lo visto mi maleta sigue en {origin}. Llevo ahí mis medicinas."],
        "refund": [
            "Pedí el reembolso de mi vuelo cancelado hace {weeks} semanas y no sé nada.",
            "¿Puedo recibir el reembolso en lugar de un bono por mi vuelo a {dest}?",
            "El reembolso de {amount} todavía no ha llegado a mi cuenta."],
        "booking_change": [
            "¿Cuánto cuesta cambiar mi vuelo a {dest} al día siguiente?",
            "Me equivoqué al escribir mi nombre en la reserva, ¿lo podéis corregir?",
            "¿Se puede añadir una maleta facturada después de pagar?"],
        "app": [
            "La app se cierra cada vez que intento hacer el check-in del vuelo {flight}.",
            "El check-in online me da «error 500». ¿Está caída la web?",
            "La tarjeta de embarque no carga en la app y ya estoy en el aeropuerto."],
        "praise": [
            "Mil gracias a la tripulación del {flight} a {dest}, encantadores con mis hijos.",
            "Puntuales, tripulación amable, todo perfecto. ¡Así da gusto!",
            "El personal de tierra en {origin} me cambió el vuelo en cinco minutos. Genial."],
        "onboard": [
            "La tripulación del {flight} fue muy borde cuando pedí agua.",
            "Pagué un asiento con más espacio en el {flight} y me pusieron en la fila {row} sin explicación.",
            "No había menú vegetariano en el {flight} aunque lo reservé."],
    },
    "citytransit": {
        "delay": [
            "El autobús {bus} no pasa desde hace {minutes} minutos por la parada {station}. ¿Está funcionando?",
            "El tranvía {tram} está otra vez parado antes de {station}, ¿qué pasa?",
            "Retrasos en la línea {metro} del metro todas las mañanas esta semana."],
        "disruption": [
            "¿Hay huelga hoy? No pasa ningún metro por {station}.",
            "¿Otra avería de señalización en la línea {metro}? La app no dice nada."],
        "ticketing": [
            "Esta mañana me cobraron dos veces un solo viaje con el pago sin contacto ({amount}).",
            "Mi abono mensual no funciona en los tornos de {station}.",
            "¿Me podéis devolver la parte no usada del abono anual?"],
        "app": [
            "La app de billetes no abre, no puedo comprar el billete.",
            "Vuestro planificador de rutas me muestra un autobús que no existe."],
        "lost_property": [
            "Me dejé {item} en el autobús {bus} sobre las {clock}. ¿Habéis encontrado algo?"],
        "accessibility": [
            "El ascensor de {station} vuelve a estar averiado, no puedo llegar al andén con la silla de ruedas."],
        "praise": [
            "Gracias al conductor del autobús {bus} que me esperó esta mañana. ¡Me alegró el día!",
            "Los tranvías han sido puntualísimos toda la semana, ¡gracias!"],
    },
    "shopco": {
        "delivery": [
            "Mi pedido {order} tenía que llegar hace {days} días. El seguimiento no se mueve.",
            "El repartidor marcó el paquete como entregado pero aquí no ha llegado nada.",
            "El pedido {order} lleva «en reparto» desde el viernes."],
        "wrong_item": [
            "Me ha llegado la talla equivocada en el pedido {order} ({product}). ¿Cómo hago el cambio?",
            "Abrí la caja y el artículo está dañado ({product})."],
        "refund": [
            "Devolví el pedido {order} hace {weeks} semanas y todavía no me habéis reembolsado.",
            "¿Cuánto tarda el reembolso en aparecer en mi tarjeta?"],
        "billing": [
            "Me habéis cobrado dos veces el pedido {order} ({amount} cada vez).",
            "¿Por qué hay un cargo extra de {amount} en mi extracto?"],
        "app": [
            "El pago falla siempre con «error de pago», ¿está caída la web?",
            "La app me cierra la sesión cada vez que añado algo a la cesta."],
        "praise": [
            "El pedido llegó al día siguiente y muy bien embalado. ¡Me encanta!",
            "Vuestro servicio de atención me resolvió el cambio en minutos, gracias."],
        "product_question": [
            "¿El artículo «{product}» volverá a estar disponible pronto?",
            "¿El artículo «{product}» tiene garantía?"],
    },
    "followup": {
        "neutral": ["¿Alguna novedad?", "Sigo esperando respuesta...",
                    
                    "Ya he rellenado el formulario que me enviasteis."],
        "negative": ["Llevo {hours} horas esperando y nadie contesta.",
                     "¿Hola? ¿Alguien lee esto?", "Nada todavía. Lamentable."],
        "thanks": ["¡Gracias, ya está resuelto!", "Perfecto, ha funcionado. Gracias."],
    },
    "dm_intro": ["Os escribo por privado como me pedisteis.",
                 "Aquí van los datos que me pedisteis."],
    "pnr": ["Localizador de la reserva: {pnr}.", "Mi código de reserva es {pnr}.",
            "Reserva {pnr}."],
    "card": ["Pagué con la tarjeta {card}.", "La tarjeta del cargo es la {card}.",
             "Número de tarjeta {card}, revisadlo por favor."],
    "iban": ["Por favor, haced la devolución al IBAN {iban}.", "Mi IBAN es {iban}.",
             "Podéis transferirlo a {iban}."],
    "competitor": ["La próxima vez me voy con {comp}.",
                   "{comp} nunca trataría así a sus clientes.",
                   "Me estoy planteando en serio pasarme a {comp}.",
                   "Hasta {comp} contesta más rápido que vosotros."],
    "cities": ["Londres", "París", "Madrid", "Roma", "Ámsterdam", "Lisboa",
               "Berlín", "Barcelona", "Milán", "Oporto", "Niza", "Múnich",
               "Bruselas", "Viena"],
    "items": ["la mochila", "el paraguas", "la bufanda", "el portátil",
              "la cartera"],
    "products": ["auriculares inalámbricos", "zapatillas de running",
                 "cafetera", "chaqueta de invierno", "funda de móvil",
                 "batidora", "mochila", "lámpara de escritorio",
                 "chubasquero infantil", "esterilla de yoga"],
    "names": (["Lucía", "Hugo", "Martina", "Pablo", "Sofía", "Álvaro",
               "Carmen", "Javier", "Paula", "Diego", "Elena", "Mateo"],
              ["García", "Fernández", "González", "Rodríguez", "López",
               "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz", "Díaz",
               "Moreno"]),
    "phone": ("+34655501", 3),
}

TEXT["nl"] = {
    "sent_dm": "Ik heb jullie een DM gestuurd.",
    "open": ["Hallo!", "Goedemorgen.", "Hoi!", "Goedemiddag.", "Hallo."],
    "close": ["Alvast bedankt.", "Dank je!", "Kan iemand mij helpen?",
              "Groetjes.", "Bedankt voor de hulp."],
    "open_neg": ["Ongelofelijk.", "Nu is het genoeg.", "Serieus?",
                 "Ik ben woedend.", "Alweer!"],
    "close_neg": ["Slechtste service ooit.", "Nooit meer.", "Schandalig.",
                  "Ik wil een echt antwoord, geen bot.",
                  "Los dit nu eens op!"],
    "email_open": "Geachte heer/mevrouw,", "email_close": "Met vriendelijke groet,",
    "acme-air": {
        "delay": [
            "Mijn vlucht {flight} naar {dest} heeft {hours} uur vertraging en bij de gate weet niemand iets.",
            "Vlucht {flight} staat weer op vertraagd. Haal ik mijn overstap in {hub} nog?",
            "We zitten al {minutes} minuten in het vliegtuig aan de gate ({flight}), is er nieuws?",
            "Volgens de app vertrekt {flight} om {clock}, maar de schermen zeggen iets anders. Wat klopt er?"],
        "cancellation": [
            "Vlucht {flight} naar {dest} is net geannuleerd. Hoe word ik omgeboekt?",
            "Jullie hebben mijn vlucht naar {dest} geannuleerd zonder mail of sms. Wat zijn mijn opties?",
            "Vlucht geannuleerd en de app biedt me pas over {days} dagen een plek aan. Dat gaat echt niet."],
        "baggage": [
            "Mijn koffer is met {flight} niet in {dest} aangekomen. Ik heb aangifte gedaan bij de balie, hoe lang duurt dat meestal?",
            "Na {days} dagen nog steeds geen spoor van mijn bagage.",
            "Mijn kinderwagen kwam kapot van de band. Bij wie moet ik zijn?"],
        "refund": [
            "Ik heb {weeks} weken geleden terugbetaling aangevraagd voor mijn geannuleerde vlucht en nog niets gehoord.",
            "Kan ik mijn geld terugkrijgen in plaats van een voucher voor mijn vlucht naar {dest}?",
            "De terugbetaling van {amount} staat nog steeds niet op mijn rekening."],
        "booking_change": [
            "Wat kost het om mijn vlucht naar {dest} een dag later te zetten?",
            "Ik heb mijn naam verkeerd gespeld bij de boeking, kunnen jullie dat aanpassen?",
            "Kan ik na betaling nog ruimbagage toevoegen?"],
        "app": [
            "De app crasht elke keer als ik wil inchecken voor {flight}.",
            "Online inchecken geeft 'fout 500'. Ligt de website eruit?",
            "Mijn instapkaart laadt niet in de app en ik sta al op het vliegveld."],
        "praise": [
            "Grote dank aan de crew van {flight} naar {dest}, superlief voor mijn kinderen.",
            "Op tijd, vriendelijke crew, niets op aan te merken. Top!",
            "Het grondpersoneel in {origin} heeft mijn omboeking in vijf minuten geregeld. Chapeau."],
        "onboard": [
            "De crew op {flight} deed onbeschoft toen ik om water vroeg.",
            "Ik had betaald voor extra beenruimte op {flight} en werd zonder uitleg naar rij {row} verplaatst."],
    },
    "citytransit": {
        "delay": [
            "Bus {bus} is al {minutes} minuten niet langsgekomen bij halte {station}. Rijdt hij wel?",
            "Tram {tram} staat weer stil voor {station}, wat is er aan de hand?",
            "Elke ochtend deze week vertraging op metrolijn {metro}.",
            "Het bord bij {station} zegt al {minutes} minuten dat de tram over 2 minuten komt."],
        "disruption": [
            "Is er vandaag een staking? Geen metro bij {station}.",
            "Alweer een seinstoring op lijn {metro}? In de app staat niks.",
            "Iedereen moest uitstappen bij {station}. Rijden er vervangende bussen?"],
        "ticketing": [
            "Vanochtend is er twee keer afgeschreven voor één rit met contactloos betalen ({amount}).",
            "Mijn maandabonnement werkt niet bij de poortjes van {station}.",
            "Kan ik het ongebruikte deel van mijn jaarabonnement terugkrijgen?",
            "De kaartautomaat op {station} heeft mijn geld ingeslikt zonder kaartje."],
        "app": [
            "De ticket-app opent niet meer, ik kan geen kaartje kopen.",
            "Jullie reisplanner toont een bus die niet bestaat."],
        "lost_property": [
            "Ik heb rond {clock} mijn {item} laten liggen in bus {bus}. Heeft iemand die ingeleverd?",
            "Mijn {item} kwijtgeraakt in tram {tram} vanochtend. Waar is de afdeling gevonden voorwerpen?"],
        "accessibility": [
            "De lift bij {station} is weer kapot, ik kan met mijn rolstoel niet bij het perron.",
            "De oprijplaat van bus {bus} werkte niet en de chauffeur reed gewoon door."],
        "praise": [
            "Dank aan de chauffeur van bus {bus} die vanochtend op me wachtte. Top!",
            "De trams waren de hele week precies op tijd, bedankt!"],
    },
    "shopco": {
        "delivery": [
            "Mijn bestelling {order} had {days} dagen geleden binnen moeten zijn. De track & trace staat stil.",
            "De bezorger heeft het pakket als afgeleverd gemarkeerd, maar hier is niks."],
        "wrong_item": [
            "Verkeerde maat ontvangen bij bestelling {order} ({product}). Hoe kan ik ruilen?",
            "Doos opengemaakt en het artikel is beschadigd ({product})."],
        "refund": [
            "Ik heb bestelling {order} {weeks} weken geleden teruggestuurd en nog steeds geen terugbetaling.",
            "Hoe lang duurt het voordat de terugbetaling op mijn kaart staat?"],
        "billing": [
            "Bestelling {order} is twee keer afgeschreven ({amount} per keer).",
            "Waarom staat er een extra afschrijving van {amount} op mijn afschrift?"],
        "app": [
            "Afrekenen mislukt steeds met 'betaalfout', ligt de site eruit?",
            "De app logt me uit zodra ik iets in mijn winkelmandje leg."],
        "praise": [
            "Bestelling kwam de volgende dag al, netjes verpakt. Top!",
            "Jullie klantenservice heeft mijn ruil in een paar minuten geregeld, dank!"],
        "product_question": [
            "Komt het artikel '{product}' snel weer op voorraad?",
            "Zit er garantie op het artikel '{product}'?"],
    },
    "followup": {
        "neutral": ["Al nieuws?", "Wacht nog steeds op antwoord...",
                    
                    "Ik heb het formulier ingevuld dat jullie stuurden."],
        "negative": ["Al {hours} uur geen reactie.",
                     "Hallo? Leest iemand dit eigenlijk?",
                     "Nog steeds niks. Triest."],
        "thanks": ["Bedankt, het is opgelost!", "Top, het werkt weer. Dank!"],
    },
    "dm_intro": ["Zoals gevraagd via DM:", "Hier de gegevens waar jullie om vroegen."],
    "pnr": ["Boekingsnummer: {pnr}.", "Mijn boekingsreferentie is {pnr}.",
            "Boekingscode {pnr}."],
    "card": ["Ik heb betaald met kaart {card}.", "De afschrijving was op kaart {card}.",
             "Kaartnummer {card}, graag nakijken."],
    "iban": ["Graag terugstorten op IBAN {iban}.", "Mijn IBAN is {iban}.",
             "Jullie kunnen het overmaken naar {iban}."],
    "competitor": ["Volgende keer ga ik gewoon met {comp}.",
                   "{comp} zou zijn klanten nooit zo behandelen.",
                   "Ik denk er serieus over om over te stappen naar {comp}.",
                   "Zelfs {comp} reageert sneller dan jullie."],
    "cities": ["Londen", "Parijs", "Madrid", "Rome", "Amsterdam", "Lissabon",
               "Berlijn", "Barcelona", "Milaan", "Porto", "Nice", "München",
               "Brussel", "Wenen"],
    "items": ["rugzak", "paraplu", "sjaal", "laptop", "portemonnee"],
    "products": ["draadloze koptelefoon", "hardloopschoenen",
                 "koffiezetapparaat", "winterjas", "telefoonhoesje", "blender",
                 "rugzak", "bureaulamp", "regenjas voor kinderen", "yogamat"],
    "names": (["Sanne", "Daan", "Fleur", "Bram", "Lotte", "Thijs", "Noor",
               "Jesse", "Eva", "Sem", "Anouk", "Milan"],
              ["de Jong", "Jansen", "de Vries", "van den Berg", "Bakker",
               "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Peeters",
               "Janssens"]),
    "phone": ("+3197010", 6),
}

TEXT["it"] = {
    "sent_dm": "Vi ho scritto in privato.",
    "open": ["Ciao!", "Buongiorno.", "Salve.", "Buonasera.", "Ciao a tutti."],
    "close": ["Grazie in anticipo.", "Grazie mille!", "Qualcuno mi può aiutare?",
              "Cordiali saluti.", "Grazie per l'aiuto."],
    "open_neg": ["Incredibile.", "Adesso basta.", "Sul serio?",
                 "Sono furioso.", "Di nuovo!"],
    "close_neg": ["Il servizio peggiore di sempre.", "Mai più.", "Vergognoso.",
                  "Voglio una risposta vera, non un bot.", "Risolvete subito!"],
    "email_open": "Gentili signori,", "email_close": "Cordiali saluti,",
    "acme-air": {
        "delay": [
            "Il mio volo {flight} per {dest} ha {hours} ore di ritardo e al gate nessuno sa niente.",
            "Il volo {flight} risulta di nuovo in ritardo. Riuscirò a prendere la coincidenza a {hub}?",
            "Siamo seduti in aereo al gate da {minutes} minuti (volo {flight}), novità?",
            "L'app dice che il volo {flight} parte alle {clock}, i monitor dicono altro. A chi credo?"],
        "cancellation": [
            "Il volo {flight} per {dest} è appena stato cancellato. Come faccio a essere riprotetto?",
            "Avete cancellato il mio volo per {dest} senza una mail o un SMS. Quali sono le mie opzioni?",
            "Volo cancellato e l'app mi propone un posto fra {days} giorni. Non è accettabile.",
            "Il nostro volo di ritorno da {origin} è cancellato. L'hotel per stanotte lo coprite voi?"],
        "baggage": [
            "La mia valigia non è arrivata a {dest} con il volo {flight}. Ho fatto la denuncia al banco, quanto ci vuole di solito?",
            "Dopo {days} giorni ancora nessuna traccia del mio bagaglio.",
            "Il passeggino è uscito rotto dal nastro. A chi mi devo rivolgere?"],
        "refund": [
            "Ho chiesto il rimborso del volo cancellato {weeks} settimane fa e non ho ancora saputo nulla.",
            "Posso avere un rimborso invece del voucher per il volo per {dest}?",
            "Il rimborso di {amount} non è ancora arrivato sul mio conto."],
        "booking_change": [
            "Quanto costa spostare il mio volo per {dest} al giorno dopo?",
            "Ho sbagliato a scrivere il mio nome nella prenotazione, potete correggerlo?",
            "Posso aggiungere un bagaglio da stiva dopo aver pagato?"],
        "app": [
            "L'app si blocca ogni volta che provo a fare il check-in per il volo {flight}.",
            "Il check-in online mi dà «errore 500». Il sito è giù?",
            "La carta d'imbarco non si carica nell'app e sono già in aeroporto."],
        "praise": [
            "Un grazie enorme all'equipaggio del volo {flight} per {dest}, gentilissimi con i miei bambini.",
            "Puntuali, equipaggio cordiale, tutto perfetto. Continuate così!",
            "Il personale di terra a {origin} mi ha cambiato il volo in cinque minuti. Bravissimi."],
        "onboard": [
            "L'equipaggio del volo {flight} è stato scortese quando ho chiesto dell'acqua.",
            "Ho pagato un posto con più spazio per le gambe sul volo {flight} e mi hanno spostato alla fila {row} senza spiegazioni.",
            "Niente pasto vegetariano sul volo {flight} anche se l'avevo prenotato."],
    },
    "citytransit": {
        "delay": [
            "L'autobus {bus} non passa da {minutes} minuti alla fermata {station}. È in servizio?",
            "Il tram {tram} è di nuovo fermo prima di {station}, cosa succede?",
            "Ritardi sulla linea {metro} della metro tutte le mattine questa settimana."],
        "disruption": [
            "C'è sciopero oggi? Nessuna metro a {station}.",
            "Ancora un guasto alla segnaletica sulla linea {metro}? L'app non dice niente."],
        "ticketing": [
            "Stamattina mi hanno addebitato due volte una sola corsa con il contactless ({amount}).",
            "Il mio abbonamento mensile non funziona ai tornelli di {station}.",
            "Posso avere il rimborso della parte non utilizzata dell'abbonamento annuale?"],
        "app": [
            "L'app dei biglietti non si apre, non riesco a comprare il biglietto.",
            "Il vostro calcola percorso mi mostra un autobus che non esiste."],
        "lost_property": [
            "Ho dimenticato {item} sull'autobus {bus} verso le {clock}. Qualcuno l'ha consegnato?"],
        "accessibility": [
            "L'ascensore di {station} è di nuovo guasto, non riesco ad arrivare al binario con la sedia a rotelle."],
        "praise": [
            "Grazie all'autista dell'autobus {bus} che stamattina mi ha aspettato. Mi ha migliorato la giornata!",
            "I tram sono stati puntualissimi tutta la settimana, grazie!"],
    },
    "shopco": {
        "delivery": [
            "Il mio ordine {order} doveva arrivare {days} giorni fa. Il tracking è fermo.",
            "Il corriere ha segnato il pacco come consegnato ma qui non è arrivato niente.",
            "L'ordine {order} è «in consegna» da venerdì."],
        "wrong_item": [
            "Ho ricevuto la taglia sbagliata per l'ordine {order} ({product}). Come faccio il cambio?",
            "Ho aperto la scatola e l'articolo è danneggiato ({product})."],
        "refund": [
            "Ho reso l'ordine {order} {weeks} settimane fa e ancora nessun rimborso.",
            "Quanto ci vuole perché il rimborso compaia sulla carta?"],
        "billing": [
            "Mi avete addebitato due volte l'ordine {order} ({amount} ciascuno).",
            "Perché c'è un addebito extra di {amount} sul mio estratto conto?"],
        "app": [
            "Il pagamento fallisce sempre con «errore di pagamento», il sito è giù?",
            "L'app mi disconnette ogni volta che aggiungo qualcosa al carrello."],
        "praise": [
            "Ordine arrivato il giorno dopo, imballato benissimo. Adoro!",
            "Il vostro servizio clienti mi ha sistemato il cambio in pochi minuti, grazie."],
        "product_question": [
            "L'articolo «{product}» tornerà presto disponibile?",
            "L'articolo «{product}» ha la garanzia?"],
    },
    "followup": {
        "neutral": ["Novità?", "Sto ancora aspettando una risposta...",
                    
                    "Ho compilato il modulo che mi avete mandato."],
        "negative": ["Sono passate {hours} ore e nessuno risponde.",
                     "Pronto? Qualcuno legge questi messaggi?",
                     "Ancora niente. Pessimo."],
        "thanks": ["Grazie, risolto!", "Perfetto, ha funzionato. Grazie."],
    },
    "dm_intro": ["Come richiesto, vi scrivo in privato.",
                 "Ecco i dati che mi avete chiesto."],
    "pnr": ["Codice di prenotazione: {pnr}.", "Il mio codice prenotazione è {pnr}.",
            "Prenotazione {pnr}."],
    "card": ["Ho pagato con la carta {card}.", "La carta addebitata è la {card}.",
             "Numero carta {card}, controllate per favore."],
    "iban": ["Vi prego di fare il rimborso sull'IBAN {iban}.", "Il mio IBAN è {iban}.",
             "Potete fare il bonifico su {iban}."],
    "competitor": ["La prossima volta scelgo {comp}.",
                   "{comp} non tratterebbe mai così i clienti.",
                   "Sto pensando seriamente di passare a {comp}.",
                   "Perfino {comp} risponde più in fretta di voi."],
    "cities": ["Londra", "Parigi", "Madrid", "Roma", "Amsterdam", "Lisbona",
               "Berlino", "Barcellona", "Milano", "Porto", "Nizza", "Monaco",
               "Bruxelles", "Vienna"],
    "items": ["lo zaino", "l'ombrello", "la sciarpa", "il portatile",
              "il portafoglio"],
    "products": ["cuffie wireless", "scarpe da corsa", "macchina da caffè",
                 "giacca invernale", "cover per telefono", "frullatore",
                 "zaino", "lampada da scrivania", "impermeabile per bambini",
                 "tappetino da yoga"],
    "names": (["Giulia", "Marco", "Chiara", "Luca", "Francesca", "Matteo",
               "Sara", "Alessandro", "Martina", "Davide", "Elisa", "Andrea"],
              ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano",
               "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo"]),
    "phone": ("+39333555", 4),
}

TEXT["pt"] = {
    "sent_dm": "Enviei-vos uma mensagem privada.",
    "open": ["Olá!", "Bom dia.", "Boa tarde.", "Boa noite.", "Olá."],
    "close": ["Obrigado desde já.", "Obrigada!", "Alguém me pode ajudar?",
              "Cumprimentos.", "Obrigado pela ajuda."],
    "open_neg": ["Inacreditável.", "Já chega.", "A sério?", "Estou furioso.",
                 "Outra vez!"],
    "close_neg": ["O pior serviço de sempre.", "Nunca mais.", "Uma vergonha.",
                  "Quero uma resposta a sério, não de um bot.",
                  "Resolvam isto já!"],
    "email_open": "Caros senhores,",
    "email_close": "Com os melhores cumprimentos,",
    "acme-air": {
        "delay": [
            "O meu voo {flight} para {dest} está com {hours} horas de atraso e na porta de embarque ninguém sabe nada.",
            "O voo {flight} aparece outra vez atrasado. Vou conseguir apanhar a ligação em {hub}?",
            "Estamos sentados no avião na porta há {minutes} minutos ({flight}), há novidades?",
            "A app diz que o {flight} parte às {clock} mas os ecrãs dizem outra coisa. Em qual acredito?"],
        "cancellation": [
            "O voo {flight} para {dest} acabou de ser cancelado. Como faço para ser remarcado?",
            "Cancelaram o meu voo para {dest} sem email nem SMS. Quais são as minhas opções?",
            "Voo cancelado e a app oferece-me lugar só daqui a {days} dias. Assim não dá."],
        "baggage": [
            "A minha mala não chegou a {dest} no voo {flight}. Fiz a reclamação no balcão, quanto tempo costuma demorar?",
            "Passados {days} dias continuo sem notícias da minha bagagem.",
            "O carrinho do bebé saiu partido do tapete. A quem me devo dirigir?"],
        "refund": [
            "Pedi o reembolso do voo cancelado há {weeks} semanas e ainda não tive resposta.",
            "Posso receber o reembolso em vez de um voucher pelo voo para {dest}?",
            "O reembolso de {amount} ainda não chegou à minha conta."],
        "booking_change": [
            "Quanto custa mudar o meu voo para {dest} para o dia seguinte?",
            "Enganei-me a escrever o nome na reserva, podem corrigir?",
            "Posso acrescentar uma mala de porão depois de pagar?"],
        "app": [
            "A app fecha sempre que tento fazer o check-in do voo {flight}.",
            "O check-in online dá «erro 500». O site está em baixo?",
            "O cartão de embarque não carrega na app e já estou no aeroporto."],
        "praise": [
            "Um enorme obrigado à tripulação do {flight} para {dest}, uns queridos com os meus filhos.",
            "Pontuais, tripulação simpática, tudo impecável. Continuem assim!",
            "O pessoal de terra em {origin} resolveu a minha remarcação em cinco minutos. Excelente."],
        "onboard": [
            "A tripulação do {flight} foi mal-educada quando pedi água.",
            "Paguei um lugar com mais espaço no {flight} e mudaram-me para a fila {row} sem explicação."],
    },
    "citytransit": {
        "delay": [
            "O autocarro {bus} não passa há {minutes} minutos na paragem {station}. Está a circular?",
            "O elétrico {tram} está outra vez parado antes de {station}, o que se passa?",
            "Atrasos na linha {metro} do metro todas as manhãs esta semana."],
        "disruption": [
            "Há greve hoje? Não passa nenhum metro em {station}.",
            "Outra avaria de sinalização na linha {metro}? A app não diz nada."],
        "ticketing": [
            "Hoje de manhã cobraram-me duas vezes uma só viagem com pagamento contactless ({amount}).",
            "O meu passe mensal não funciona nos torniquetes de {station}.",
            "Posso ser reembolsado da parte não usada do passe anual?"],
        "app": [
            "A app dos bilhetes não abre, não consigo comprar bilhete.",
            "O vosso planeador de viagens mostra um autocarro que não existe."],
        "lost_property": [
            "Deixei {item} no autocarro {bus} por volta das {clock}. Alguém entregou?"],
        "accessibility": [
            "O elevador de {station} está outra vez avariado, não consigo chegar à plataforma com a cadeira de rodas."],
        "praise": [
            "Obrigado ao motorista do autocarro {bus} que esperou por mim hoje de manhã. Ganhei o dia!",
            "Os elétricos foram pontualíssimos a semana toda, obrigado!"],
    },
    "shopco": {
        "delivery": [
            "A minha encomenda {order} devia ter chegado há {days} dias. O seguimento não se mexe.",
            "A transportadora marcou a encomenda como entregue mas aqui não chegou nada."],
        "wrong_item": [
            "Recebi o tamanho errado na encomenda {order} ({product}). Como faço a troca?",
            "Abri a caixa e o artigo vem danificado ({product})."],
        "refund": [
            "Devolvi a encomenda {order} há {weeks} semanas e ainda nada de reembolso.",
            "Quanto tempo demora o reembolso a aparecer no cartão?"],
        "billing": [
            "Cobraram-me duas vezes a encomenda {order} ({amount} de cada vez).",
            "Porque é que tenho uma cobrança extra de {amount} no extrato?"],
        "app": [
            "O pagamento falha sempre com «erro de pagamento», o site está em baixo?",
            "A app termina a sessão sempre que adiciono algo ao carrinho."],
        "praise": [
            "A encomenda chegou no dia seguinte, muito bem embalada. Adorei!",
            "O vosso apoio ao cliente resolveu a troca em minutos, obrigado."],
        "product_question": [
            "O artigo «{product}» volta a estar disponível em breve?",
            "O artigo «{product}» tem garantia?"],
    },
    "followup": {
        "neutral": ["Alguma novidade?", "Continuo à espera de resposta...",
                    
                    "Já preenchi o formulário que me enviaram."],
        "negative": ["Já passaram {hours} horas e ninguém responde.",
                     "Olá? Alguém lê isto?", "Ainda nada. Lamentável."],
        "thanks": ["Obrigado, está resolvido!", "Perfeito, funcionou. Obrigado."],
    },
    "dm_intro": ["Conforme pedido, envio por mensagem privada.",
                 "Aqui estão os dados que pediram."],
    "pnr": ["Código de reserva: {pnr}.", "A minha referência de reserva é {pnr}.",
            "Reserva {pnr}."],
    "card": ["Paguei com o cartão {card}.", "O cartão cobrado foi o {card}.",
             "Número do cartão {card}, verifiquem por favor."],
    "iban": ["Por favor façam o reembolso para o IBAN {iban}.", "O meu IBAN é {iban}.",
             "Podem transferir para {iban}."],
    "competitor": ["Da próxima vez vou com a {comp}.",
                   "A {comp} nunca tratava assim os clientes.",
                   "Estou a pensar a sério mudar para a {comp}.",
                   "Até a {comp} responde mais depressa do que vocês."],
    "cities": ["Londres", "Paris", "Madrid", "Roma", "Amesterdão", "Lisboa",
               "Berlim", "Barcelona", "Milão", "Porto", "Nice", "Munique",
               "Bruxelas", "Viena"],
    "items": ["a mochila", "o guarda-chuva", "o cachecol", "o portátil",
              "a carteira"],
    "products": ["auscultadores sem fios", "sapatilhas de corrida",
                 "máquina de café", "casaco de inverno", "capa de telemóvel",
                 "liquidificadora", "mochila", "candeeiro de secretária",
                 "impermeável de criança", "tapete de ioga"],
    "names": (["Beatriz", "João", "Mariana", "Tiago", "Inês", "Rodrigo",
               "Ana", "Miguel", "Catarina", "Pedro", "Rita", "Gonçalo"],
              ["Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa",
               "Rodrigues", "Martins", "Sousa", "Fernandes", "Gomes",
               "Lopes"]),
    "phone": ("+35191555", 4),
}

STATIONS = ["Central", "Porte Verte", "Kanaalstraat", "Parkside", "Hoogbrug",
            "Saint-Roch", "Marktplein", "Airport", "Université", "Riverside",
            "Zuidstation", "Place Royale"]
EMOJI = {"negative": ["😡", "🤬", "😤"], "positive": ["👏", "❤️", "🙌", "😊"],
         "neutral": ["🙏", "🤔", "👀"]}

# Well-known Luhn-valid test card numbers (no real account behind them).
TEST_CARDS = ["4111111111111111", "4242424242424242", "5555555555554444",
              "5105105105105100", "378282246310005", "6011111111111117",
              "4012888888881881", "2223003122003222", "371449635398431",
              "5200828282828210"]
# IBAN country -> BBAN pattern (n digit, a upper letter, c alphanumeric).
IBAN_BBAN = {"DE": "18n", "GB": "4a14n", "FR": "10n11c2n", "NL": "4a10n",
             "ES": "20n", "IT": "1a10n12c", "PT": "21n", "BE": "12n"}
LANG_IBAN = {"en": "GB", "fr": "FR", "de": "DE", "es": "ES", "nl": "NL",
             "it": "IT", "pt": "PT"}

# ------------------------------------------------------------ generators


def luhn_ok(number):
    digits = [int(c) for c in number][::-1]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2)
                for i, d in enumerate(digits))
    return total % 10 == 0


def format_card(rng, number):
    style = rng.randrange(4)
    if style == 0:
        return number
    if len(number) == 15:  # Amex 4-6-5
        groups = [number[:4], number[4:10], number[10:]]
    else:
        groups = [number[i:i + 4] for i in range(0, len(number), 4)]
    return ("-" if style == 1 else " ").join(groups) if style < 3 \
        else ".".join(groups)


def bban(rng, pattern):
    out, count = [], ""
    alphabet = {"n": "0123456789", "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                "c": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
    for ch in pattern:
        if ch.isdigit():
            count += ch
            continue
        out.extend(rng.choice(alphabet[ch]) for _ in range(int(count)))
        count = ""
    return "".join(out)


def iban_mod97(text):
    digits = "".join(str(int(c, 36)) for c in text)
    return int(digits) % 97


def make_iban(rng, country):
    body = bban(rng, IBAN_BBAN[country])
    check = 98 - iban_mod97(body + country + "00")
    iban = "%s%02d%s" % (country, check, body)
    assert iban_mod97(iban[4:] + iban[:4]) == 1
    if rng.random() < 0.6:
        return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    return iban


def make_pnr(rng):
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    alnum = letters + "23456789"
    if rng.random() < 0.5:  # "ABC123" shape
        return "".join(rng.choice(letters) for _ in range(3)) + \
            "".join(rng.choice("23456789") for _ in range(3))
    return "".join(rng.choice(alnum) for _ in range(6))


def weighted(rng, table):
    keys = list(table)
    return rng.choices(keys, weights=[table[k] for k in keys])[0]


def ascii_fold(text):
    norm = unicodedata.normalize("NFKD", text)
    return "".join(c for c in norm if c.isalnum() and ord(c) < 128).lower()


def amount(rng, lang):
    value = rng.choice([2.4, 2.9, 3.1, 12.5, 19.99, 24.0, 39.9, 49.99, 64.5,
                        89.0, 129.0, 149.99, 212.4, 318.75, 486.2])
    if lang == "en":
        return "€%.2f" % value
    text = ("%.2f" % value).replace(".", ",")
    return "€ " + text if lang == "nl" else text + " €"


def clock(rng, lang):
    h, m = rng.randint(6, 22), rng.choice([0, 5, 10, 15, 20, 30, 40, 45, 50])
    return "%dh%02d" % (h, m) if lang == "fr" else "%d:%02d" % (h, m)


def slots(rng, lang):
    t = TEXT[lang]
    origin, dest, hub = rng.sample(t["cities"], 3)
    flight = "ZZ%s%d" % (rng.choice(["", " "]), rng.randint(100, 2999))
    return {
        "flight": flight, "origin": origin, "dest": dest, "hub": hub,
        "hours": rng.randint(2, 7), "minutes": rng.choice(range(15, 60, 5)),
        "days": rng.randint(2, 9), "weeks": rng.randint(2, 6),
        "row": rng.randint(20, 38), "bus": rng.randint(12, 98),
        "tram": rng.randint(1, 12), "metro": "M%d" % rng.randint(1, 5),
        "station": rng.choice(STATIONS), "clock": clock(rng, lang),
        "item": rng.choice(t["items"]), "product": rng.choice(t["products"]),
        "order": "SC-%07d" % rng.randint(1000000, 9999999),
        "amount": amount(rng, lang),
    }


# -------------------------------------------------------------- customers

def customer_id(rng, channel, lang):
    if channel == "x":
        return str(rng.choice([rng.randint(10**7, 10**10),
                               rng.randint(10**17, 19 * 10**17)]))
    if channel in ("facebook", "messenger"):
        return str(rng.randint(10**15, 10**16 - 1))
    if channel == "instagram":
        return str(rng.randint(10**16, 10**17 - 1))
    if channel in ("whatsapp", "sms"):
        prefix, width = TEXT[lang]["phone"]
        return prefix + "".join(rng.choice("0123456789") for _ in range(width))
    if channel == "email":
        return None  # derived from the name
    return "web-%012x" % rng.getrandbits(48)


def followers(rng, channel):
    if channel not in ("x", "instagram", "facebook"):
        return 0
    if rng.random() < 0.02:  # the occasional influencer
        return rng.randint(50000, 900000)
    return int(min(rng.lognormvariate(5.0, 1.6), 40000))


def make_customer(rng, channel, lang):
    first = rng.choice(TEXT[lang]["names"][0])
    last = rng.choice(TEXT[lang]["names"][1])
    cid = customer_id(rng, channel, lang)
    if cid is None:
        cid = "%s.%s%d@example.%s" % (ascii_fold(first), ascii_fold(last),
                                      rng.randint(1, 99),
                                      rng.choice(["com", "org", "net"]))
    return {"id": cid, "name": "%s %s" % (first, last),
            "followers": followers(rng, channel)}


# ------------------------------------------------------ platform message ids

def message_id(rng, channel, tenant, ms):
    b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    if channel == "x":  # snowflake: ms since Twitter epoch << 22
        return str(((ms - 1288834974657) << 22) | rng.getrandbits(22))
    if channel == "facebook":
        return "%s_%d" % (TENANTS[tenant]["page_id"],
                          rng.randint(10**15, 10**16 - 1))
    if channel == "messenger":
        return "m_" + "".join(rng.choice(b64) for _ in range(40))
    if channel == "instagram":
        return "aWdf" + "".join(rng.choice(b64) for _ in range(44))
    if channel == "whatsapp":
        return "wamid.HBgM" + "".join(rng.choice(b64) for _ in range(44))
    if channel == "email":
        return "<%032x@mail.example.net>" % rng.getrandbits(128)
    if channel == "sms":
        return "SM%032x" % rng.getrandbits(128)
    return "wc-%016x" % rng.getrandbits(64)


# ------------------------------------------------------------ conversations

def hhmm_to_s(text):
    h, m = text.split(":")
    return int(h) * 3600 + int(m) * 60


def base_second(rng):
    hour = rng.choices(range(24), weights=HOURLY)[0]
    return hour * 3600 + rng.randrange(3600)


def pick_topic(rng, tenant, only=None):
    table = {k: v[0] for k, v in TOPICS[tenant].items()
             if only is None or k in only}
    return weighted(rng, table)


def thread_length(rng):
    return rng.choices([1, 2, 3, 4], weights=[60, 22, 12, 6])[0]


def new_conversation(rng, tenant, start_s, topic):
    lang = weighted(rng, TENANTS[tenant]["langs"])
    channel = weighted(rng, CHANNELS)
    public = rng.random() < PUBLIC_SHARE.get(channel, 0.0)
    return {"tenant": tenant, "lang": lang, "channel": channel,
            "public": public, "topic": topic, "start": start_s,
            "customer": make_customer(rng, channel, lang),
            "length": thread_length(rng), "negative": False}


def plan_conversations(rng):
    convs = []
    for tenant, start, end, count, topics in INCIDENTS:
        lo, hi = hhmm_to_s(start), hhmm_to_s(end)
        for _ in range(count):
            topic = pick_topic(rng, tenant, topics)
            convs.append(new_conversation(rng, tenant, rng.randint(lo, hi),
                                          topic))
    while sum(c["length"] for c in convs) < TARGET_MESSAGES:
        tenant = weighted(rng, {k: v["weight"] for k, v in TENANTS.items()})
        convs.append(new_conversation(rng, tenant, base_second(rng),
                                      pick_topic(rng, tenant)))
    return convs


def mark_negative(rng, convs):
    """Turns complaint conversations negative until ~15 % of messages are;
    incident conversations (first in the list) are the likeliest."""
    total = sum(c["length"] for c in convs)
    budget = SHARE["negative"] * total
    n_incident = sum(inc[3] for inc in INCIDENTS)
    order = list(range(len(convs)))
    rng.shuffle(order)
    coin = [rng.random() < 0.5 for _ in order]
    order.sort(key=lambda i: 0 if i < n_incident and coin[i] else 1)
    for i in order:
        c = convs[i]
        if TOPICS[c["tenant"]][c["topic"]][1] != "complaint":
            continue
        if budget < c["length"]:
            continue
        c["negative"] = True
        budget -= c["length"]


def expand(rng, conv):
    """The messages of one conversation, in time order (without text)."""
    msgs, t = [], conv["start"]
    dm_switch = conv["public"] and conv["length"] >= 2 and rng.random() < 0.45
    for k in range(conv["length"]):
        if k:
            t += rng.randint(90, 5400)
        channel, public = conv["channel"], conv["public"]
        dm = dm_switch and k >= 1
        if dm:
            channel, public = DM_CHANNEL[conv["channel"]], False
        msgs.append({"conv": conv, "k": k, "t": min(t, 86399),
                     "channel": channel, "public": public, "dm": dm,
                     "first_dm": dm and k == 1, "tags": []})
    return msgs


def choose(rng, msgs, share, weight_fn):
    n = round(share * len(msgs))
    pool = [(m, weight_fn(m)) for m in msgs]
    pool = [(m, w) for m, w in pool if w > 0]
    chosen = []
    for _ in range(min(n, len(pool))):
        total = sum(w for _, w in pool)
        r, acc = rng.random() * total, 0.0
        for idx, (m, w) in enumerate(pool):
            acc += w
            if acc >= r:
                chosen.append(m)
                pool.pop(idx)
                break
    return chosen


def assign_extras(rng, msgs):
    money = {"refund", "billing", "ticketing"}

    def w_card(m):
        return 8 if m["conv"]["topic"] in money else 1

    def w_iban(m):
        return 10 if m["conv"]["topic"] == "refund" else \
            (2 if m["conv"]["topic"] in money else 0.3)

    def w_pnr(m):
        if m["conv"]["tenant"] != "acme-air":
            return 0
        return 12 if m["first_dm"] else (1 if m["k"] == 0 else 0.3)

    def w_comp(m):
        return 6 if m["conv"]["negative"] else 0.5

    for tag, fn in (("card", w_card), ("iban", w_iban), ("pnr", w_pnr),
                    ("competitor", w_comp)):
        for m in choose(rng, msgs, SHARE[tag], fn):
            m["tags"].append(tag)


# ------------------------------------------------------------------ render

def fill(template, values):
    return template.format(**values)


def body_sentence(rng, m, t, values):
    conv = m["conv"]
    if m["first_dm"]:
        return rng.choice(t["dm_intro"])
    if m["k"] == 0:
        return fill(rng.choice(t[conv["tenant"]][conv["topic"]]), values)
    last = m["k"] == conv["length"] - 1
    if last and rng.random() < 0.3:
        return rng.choice(t["followup"]["thanks"])
    if m["public"] and rng.random() < 0.25:
        return t["sent_dm"]
    kind = "negative" if conv["negative"] and rng.random() < 0.7 else "neutral"
    return fill(rng.choice(t["followup"][kind]), values)


def extra_sentences(rng, m, t, lang):
    out = []
    comp = rng.choice(TENANTS[m["conv"]["tenant"]]["competitors"])
    makers = {"pnr": lambda: {"pnr": make_pnr(rng)},
              "card": lambda: {"card": format_card(rng, rng.choice(TEST_CARDS))},
              "iban": lambda: {"iban": make_iban(rng, LANG_IBAN[lang])},
              "competitor": lambda: {"comp": comp}}
    for tag in ("pnr", "card", "iban", "competitor"):
        if tag in m["tags"]:
            out.append(fill(rng.choice(t[tag]), makers[tag]()))
    return out


def tone(m):
    conv = m["conv"]
    if conv["negative"]:
        return "negative"
    return "positive" if conv["topic"] == "praise" else "neutral"


def render_text(rng, m, lang):
    t, conv = TEXT[lang], m["conv"]
    if "slots" not in conv:
        conv["slots"] = slots(rng, lang)
    values = conv["slots"]
    mood = tone(m)
    neg = mood == "negative"
    parts = []
    may_open = m["k"] == 0 and (neg or m["channel"] != "email")
    if may_open and rng.random() < (0.6 if neg else 0.35):
        parts.append(rng.choice(t["open_neg" if neg else "open"]))
    parts.append(body_sentence(rng, m, t, values))
    parts.extend(extra_sentences(rng, m, t, lang))
    if rng.random() < (0.6 if neg else 0.3):
        parts.append(rng.choice(t["close_neg" if neg else "close"]))
    text = " ".join(parts)
    return decorate(rng, m, text, t, mood)


def decorate(rng, m, text, t, mood):
    conv, channel = m["conv"], m["channel"]
    brand = TENANTS[conv["tenant"]]
    if channel == "email":
        return "%s\n\n%s\n\n%s\n%s" % (fill(t["email_open"], brand), text,
                                       t["email_close"], conv["customer"]["name"])
    if channel in ("x", "instagram") and m["public"] and m["k"] == 0:
        handle = brand["handle"] if channel == "x" else brand["handle"].lower()
        text = "@%s %s" % (handle, text)
    if channel in ("x", "instagram", "facebook", "whatsapp", "messenger") \
            and rng.random() < 0.18:
        text += " " + rng.choice(EMOJI[mood])
    return text


def event_tags(m):
    tags = list(m["tags"])
    mood = tone(m)
    if mood != "neutral":
        tags.insert(0, mood)
    if m["k"]:
        tags.append("followup")
    if m["dm"]:
        tags.append("dm")
    return tags


def build_event(rng, m, prev_id):
    conv = m["conv"]
    lang, tenant, channel = conv["lang"], conv["tenant"], m["channel"]
    when = DAY + datetime.timedelta(seconds=m["t"],
                                    milliseconds=rng.randrange(1000))
    ms = int(when.timestamp() * 1000)
    pmid = message_id(rng, channel, tenant, ms)
    data = {"channel": channel, "customer": conv["customer"]["id"],
            "text": render_text(rng, m, lang), "public": m["public"],
            "platform_message_id": pmid}
    threaded = channel in ("x", "facebook", "instagram", "email") or \
        rng.random() < 0.2
    if prev_id is not None and not m["first_dm"] and threaded:
        data["reply_to"] = prev_id
    data["author"] = {"name": conv["customer"]["name"],
                      "followers": conv["customer"]["followers"]}
    event = {"specversion": "1.0",
             "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
             "source": "/%s/%s" % (channel,
                                   TENANTS[tenant]["accounts"][channel]),
             "type": "com.switchboard.interaction",
             "time": when.strftime("%Y-%m-%dT%H:%M:%S.") +
             "%03dZ" % (when.microsecond // 1000),
             "tenant": tenant, "sblang": lang, "sbtopic": conv["topic"]}
    tags = event_tags(m)
    if tags:
        event["sbtags"] = ",".join(tags)
    event["data"] = data
    return event, pmid


def generate():
    rng = random.Random(SEED)
    convs = plan_conversations(rng)
    mark_negative(rng, convs)
    msgs = [m for c in convs for m in expand(rng, c)]
    assign_extras(rng, msgs)
    events, last_id = [], {}
    for m in msgs:  # conversation order, so reply_to points backwards
        key = id(m["conv"])
        event, pmid = build_event(rng, m, last_id.get(key))
        last_id[key] = pmid
        events.append(event)
    events.sort(key=lambda e: (e["time"], e["id"]))
    return events


# ------------------------------------------------------------------- stats

def count_by(events, key):
    out = {}
    for e in events:
        k = key(e)
        out[k] = out.get(k, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def report(events, path):
    tags = {}
    for e in events:
        for tag in e.get("sbtags", "").split(","):
            if tag:
                tags[tag] = tags.get(tag, 0) + 1
    n = len(events)
    texts = {e["data"]["text"] for e in events}
    print("%s: %d lines, %d bytes, %d distinct texts" %
          (path, n, os.path.getsize(path), len(texts)))
    for name, key in (("language", lambda e: e["sblang"]),
                      ("channel", lambda e: e["data"]["channel"]),
                      ("tenant", lambda e: e["tenant"])):
        print("  %-9s %s" % (name, count_by(events, key)))
    print("  tags      " + ", ".join("%s %d (%.1f%%)" % (k, v, 100.0 * v / n)
                                     for k, v in sorted(tags.items())))


def check(events):
    assert len({e["id"] for e in events}) == len(events)
    for e in events:
        text = e["data"]["text"]
        assert 0 < len(text.encode()) <= 16384
        assert "{" not in text and "}" not in text, text


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(here, "sample.jsonl")
    assert all(luhn_ok(c) for c in TEST_CARDS)
    events = generate()
    check(events)
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for e in events:
            out.write(json.dumps(e, ensure_ascii=False,
                                 separators=(",", ":")) + "\n")
    report(events, path)


if __name__ == "__main__":
    main()
