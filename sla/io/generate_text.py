"""What the customers of ``sla generate`` write: subjects and message bodies.

A body is a short English text whose tone follows the writer's mood (a
sentiment in [-1, 1]): a tone sentence picked by the mood's band, then, on a
ticket's first message, a neutral sentence about the ticket's category.  The
tone sentences use plain sentiment words ("frustrated", "thanks", "works")
and the topic sentences none, so a lexicon scorer such as VADER gives a body
the sign of its mood (checked by the tests).  Subjects name the category; a
few mention a refund or a chargeback, which the customer-value example
policy routes to its billing desk.
"""

from __future__ import annotations

# Tone sentences per mood band, most negative first; BAND_TOPS are the upper
# bounds of the bands (the last band takes the rest).
BAND_TOPS = (-0.6, -0.15, 0.15, 0.55)
TONES: tuple[tuple[str, ...], ...] = (
    (
        "This is unacceptable.",
        "I am really angry, this is the worst service I have ever had.",
        "Terrible experience. I want this fixed now!",
        "I am furious: nobody has answered me for days.",
        "Still broken. I am very frustrated.",
    ),
    (
        "Unfortunately the error is still there.",
        "I am disappointed, it keeps failing.",
        "Sorry to bother you again, but it still fails.",
        "This is annoying, the problem is back.",
        "I am worried and annoyed, this takes too long.",
    ),
    (
        "Here is the information you asked for.",
        "Could you check this again?",
        "I have one more question.",
        "Any update on this?",
        "I sent the screenshot you asked for.",
    ),
    (
        "Thanks, that helps.",
        "Thank you, it looks better now.",
        "Great, that answers my question.",
        "OK, thanks for the quick reply.",
        "Good news, the first part works now.",
    ),
    (
        "Perfect, everything works now. Thank you so much!",
        "Excellent support, I really appreciate your help!",
        "Awesome, problem solved. Thanks a lot!",
        "Wonderful, thank you for the great help!",
        "Brilliant, it works perfectly now. Thanks!",
    ),
)

# The neutral band of a ticket's first message: nothing asked for yet.
FIRST_NEUTRAL = (
    "Hello, a question for your team.",
    "Could you check this for me?",
    "I have a question about this.",
    "Hi, I need some information.",
    "Hello, I am writing about the following.",
)

# Neutral sentences about each category (no sentiment words).
TOPICS: dict[str, tuple[str, ...]] = {
    "order": ("It is about order 4711.", "I placed an order on Monday.", "My order has not arrived yet."),
    "cancellation": ("My order should not ship yet.", "It is about my last order."),
    "address_change": ("I moved last week.", "The delivery address needs to change."),
    "shipping": ("Where is my parcel?", "The parcel has not arrived yet.", "It is about the shipment."),
    "delivery": ("The courier came while I was out.", "The parcel went to my neighbour."),
    "tracking": ("The tracking page shows the same status since Friday.", "Where is my parcel?"),
    "payment": ("The payment was declined.", "The card payment did not go through."),
    "refund": ("It is about the refund for my order.", "The refund is not in my account yet."),
    "fraud": ("There is a charge I do not recognise.", "I did not place this order."),
    "return": ("I sent the item back last week.", "I cannot find the return label."),
    "product": ("Which size should I order?", "Is this model compatible with the older version?"),
    "account": ("I cannot log in to my account.", "I need to change my email address."),
    "technical": (
        "The app crashes on start.",
        "The export to CSV ends halfway.",
        "The page shows code 500.",
    ),
    "billing": ("The invoice total differs from the quote.", "I need a copy of the March invoice."),
    "feedback": ("I have a suggestion for the website.", "A note about my last order."),
}

SUBJECTS: dict[str, tuple[str, ...]] = {
    "order": ("Question about my order", "Order status", "Change my order"),
    "cancellation": ("Cancel my order", "Cancellation request"),
    "address_change": ("Change delivery address", "Wrong address on my order"),
    "shipping": ("Where is my order?", "Shipping delay", "Parcel not arrived"),
    "delivery": ("Missed delivery", "Delivery to a neighbour"),
    "tracking": ("Tracking not updating", "Tracking number"),
    "payment": ("Payment failed", "Charged twice", "Chargeback on my card"),
    "refund": ("Where is my refund?", "Refund request", "Refund not received"),
    "fraud": ("Unknown charge: chargeback", "Order I did not place"),
    "return": ("Return an item", "Return and refund", "Return label"),
    "product": ("Product question", "Size advice"),
    "account": ("Cannot log in", "Account settings"),
    "technical": ("App crashes", "Export fails", "Error 500"),
    "billing": ("Invoice question", "Invoice copy"),
    "feedback": ("Feedback", "A suggestion"),
}


def band(mood: float) -> int:
    """The index in :data:`TONES` of the band a mood falls in."""
    for index, top in enumerate(BAND_TOPS):
        if mood <= top:
            return index
    return len(BAND_TOPS)


def body(mood: float, pick: float, topic: tuple[str, ...] | None = None) -> str:
    """A message whose tone matches ``mood``; ``pick`` in [0, 1) chooses the sentences.

    A ticket's first message also says what it is about (a sentence of ``topic``).

    >>> body(-0.8, 0.0)
    'This is unacceptable.'
    >>> body(0.9, 0.99, ("Where is my parcel?",))
    'Brilliant, it works perfectly now. Thanks! Where is my parcel?'
    """
    index = band(mood)
    tones = FIRST_NEUTRAL if topic and index == 2 else TONES[index]
    text = tones[int(pick * len(tones))]
    if topic:
        text = f"{text} {topic[int(pick * 7919) % len(topic)]}"
    return text
