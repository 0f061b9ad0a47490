#!/usr/bin/env python3
"""Writes ../briefs.json (blind set 4). Run: python3 src/make_briefs.py from designer/testdata/blind4."""
import json, os

C = []


def case(name, style, industry, features, text, expect, note=None):
    c = {"name": name, "style": style, "industry": industry, "text": text,
         "features": features, "expect": expect}
    if note:
        c["note"] = note
    C.append(c)


# 1
case("ecom_cart_slack_01", "slack", "ecommerce",
     ["entry", "channels", "timing", "unless"],
     "hey can we set up an abandoned cart flow? trigger on `cart_abandoned`. wait 1h then email them the cart. "
     "if they still havent ordered (order_completed) within 24h after that email, send an sms w/ a 10% code. thats it",
     {"entry": {"type": "event_entry", "event_type": "cart_abandoned"},
      "sends": {"send_email": 1, "send_sms": 1},
      "waits": ["1h"],
      "wait_for_event": [{"event_type": "order_completed", "timeout": "24h"}],
      "edges": ["wait_for_event[timed_out]->send_sms"]})

# 2
case("saas_trial_ticket_02", "ticket", "saas",
     ["entry", "channels", "wait_until", "exits"],
     "JOUR-412: Trial expiry reminder\n"
     "Entry: segment `trial_active` (new members only)\n"
     "Steps:\n"
     "- push right away: \"Get the most out of your trial\"\n"
     "- 3 days before `trial_ends_at`: email \"Your trial ends soon\"\n"
     "Exit: if the `subscription_started` event arrives, remove them from the journey.\n"
     "AC: no other channels.",
     {"entry": {"type": "segment_entry", "segment": "trial_active"},
      "sends": {"send_push": 1, "send_email": 1},
      "wait_until": [{"until": "customer.trial_ends_at", "offset": "-3d"}],
      "exit": {"event_type": "subscription_started"}})

# 3
case("fintech_kyc_email_03", "email", "fintech",
     ["entry", "channels", "timing", "unless", "goals"],
     "Hi team,\n\nFor the KYC nudge: when a user fires `kyc_started` but hasn't sent `kyc_completed` within 48 hours, "
     "we want an email reminder. If they still haven't completed after another 3 days, send an SMS. "
     "Anyone who completes KYC counts towards our goal \"kyc_done\".\n\nThanks,\nPriya",
     {"entry": {"type": "event_entry", "event_type": "kyc_started"},
      "sends": {"send_email": 1, "send_sms": 1},
      "wait_for_event": [{"event_type": "kyc_completed", "timeout": "48h"},
                         {"event_type": "kyc_completed", "timeout": "3d"}],
      "edges": ["wait_for_event[timed_out]->send_email", "wait_for_event[timed_out]->send_sms"],
      "goal": {"goal_name": "kyc_done", "event_type": "kyc_completed"}})

# 4
case("insurance_renewal_bullets_04", "bullets", "insurance",
     ["entry", "channels", "conditions", "exits"],
     "Policy renewal nudge\n"
     "- runs daily at 08:00 Europe/London over the `renewals_due` segment\n"
     "- email the renewal pack straight away\n"
     "- also an sms, but only if `auto_renew` is false\n"
     "- exit when they fire `policy_renewed`",
     {"entry": {"type": "scheduled_entry", "cron": "0 8 * * *", "timezone": "Europe/London",
                "segment": "renewals_due"},
      "sends": {"send_email": 1, "send_sms": 1},
      "conditions": [{"attribute": "auto_renew"}],
      "exit": {"event_type": "policy_renewed"}},
     note="value of auto_renew left out: `!customer.auto_renew` and `== false` are both fine")

# 5
case("travel_shorthand_05", "shorthand", "travel",
     ["entry", "channels", "timing"],
     "trigger: booking_confirmed\n"
     "d0 email confirmation\n"
     "d3 push 'add a hotel?'\n"
     "d7 email travel insurance offer",
     {"entry": {"type": "event_entry", "event_type": "booking_confirmed"},
      "sends": {"send_email": 2, "send_push": 1},
      "waits": ["3d", "4d"]},
     note="d3/d7 are days from entry, so the second wait is 4d")

# 6
case("fitness_class_prose_06", "prose", "health_fitness",
     ["entry", "channels", "timing", "conditions", "alternatives"],
     "When a member cancels a class booking (we send the event `class_cancelled`), we'd like to check whether "
     "they're on the premium tier - the attribute is `membership_tier` and the value is \"premium\". Premium "
     "members should get a WhatsApp message offering a free rebooking; everyone else gets an email with next "
     "week's schedule instead. Both go out immediately.",
     {"entry": {"type": "event_entry", "event_type": "class_cancelled"},
      "sends": {"send_whatsapp": 1, "send_email": 1},
      "waits": [],
      "conditions": [{"attribute": "membership_tier", "value": "premium"}],
      "edges": ["condition[true]->send_whatsapp", "condition[false]->send_email"]})

# 7
case("streaming_winback_slack_07", "slack", "media_streaming",
     ["entry", "channels", "timing", "unless", "goals", "caps"],
     "can we do a winback for ppl who land in the `churned_90d` segment? email right away w/ 50% off, then "
     "if they havent resubscribed (`subscription_started`) within 4 more days -> push. if they resubscribe "
     "its a win, call the goal 'winback'. also cap push at 2 per week pls",
     {"entry": {"type": "segment_entry", "segment": "churned_90d"},
      "sends": {"send_email": 1, "send_push": 1},
      "wait_for_event": [{"event_type": "subscription_started", "timeout": "4d"}],
      "edges": ["wait_for_event[timed_out]->send_push"],
      "goal": {"goal_name": "winback", "event_type": "subscription_started"},
      "cap": {"channel": "push", "max": 2, "window": "7d"}})

# 8
case("telecom_5g_chat_08", "chat", "telecom",
     ["entry", "channels", "timing"],
     "Mark: quick one - we want to push the new 5G unlimited plan\n"
     "Mark: send an email about it, then 2 days later an SMS with the link\n"
     "Mark: nothing fancy",
     {"ask_entry": True,
      "sends": {"send_email": 1, "send_sms": 1},
      "waits": ["2d"]},
     note="no trigger or audience is named")

# 9
case("gaming_level_ab_09", "shorthand", "gaming",
     ["entry", "ab", "channels", "timing"],
     "entry: `level_10_reached`\n"
     "split 50/50: A = push \"unlock the season pass\", B = email w/ same offer\n"
     "no waits",
     {"entry": {"type": "event_entry", "event_type": "level_10_reached"},
      "ab": [[50, 50]],
      "sends": {"send_push": 1, "send_email": 1},
      "waits": []})

# 10
case("nonprofit_donation_email_10", "email", "non_profit",
     ["entry", "channels", "timing", "conditions", "exits"],
     "Hello!\n\nAfter someone makes a first donation (event: first_donation), we'd like to send a thank-you email "
     "right away, then on day 14 an email with an impact story, and on day 30 a gentle ask for a monthly gift - but "
     "that last one only if `monthly_donor` is false. Please stop the whole thing if they fire `monthly_gift_started`.\n\n"
     "Best, Jo",
     {"entry": {"type": "event_entry", "event_type": "first_donation"},
      "sends": {"send_email": 3},
      "waits": ["14d", "16d"],
      "conditions": [{"attribute": "monthly_donor"}],
      "exit": {"event_type": "monthly_gift_started"}},
     note="day 14 and day 30 are counted from entry: 14d then 16d")

# 11
case("loyalty_points_ticket_11", "ticket", "retail_loyalty",
     ["entry", "channels", "conditions"],
     "LOY-88 Monthly points statement\n"
     "Schedule: 1st of each month, 10:00 America/New_York\n"
     "Audience: segment `loyalty_members`\n"
     "Action: email the points statement; if `points_balance` > 500 also send a push \"you can redeem a reward\".",
     {"entry": {"type": "scheduled_entry", "cron": "0 10 1 * *", "timezone": "America/New_York",
                "segment": "loyalty_members"},
      "sends": {"send_email": 1, "send_push": 1},
      "conditions": [{"attribute": "points_balance", "value": 500}]})

# 12
case("b2b_demo_bullets_12", "bullets", "b2b",
     ["entry", "channels", "unless", "goals"],
     "Demo request follow-up\n"
     "- starts when our website form posts to the journey's webhook\n"
     "- email the rep's calendar link immediately\n"
     "- if they haven't booked a meeting (`meeting_booked`) within 2 days, email again\n"
     "- if still nothing after 5 more days, have an SDR call them\n"
     "- goal: meeting booked",
     {"entry": {"type": "webhook_entry"},
      "sends": {"send_email": 2},
      "edges": ["wait_for_event[timed_out]->send_email"],
      "goal": {"event_type": "meeting_booked"},
      "must_flag": ["SDR"]},
     note="a phone call by a sales rep is not a node type")

# 13
case("edu_course_prose_13", "prose", "education",
     ["entry", "channels", "timing", "alternatives"],
     "Our course platform fires `course_enrolled` when a learner signs up for a course. One hour after that, send "
     "a push with the first lesson. Then wait for them to fire `lesson_completed` or 3 days, whichever comes first. "
     "If they complete it, send an email congratulating them and pointing to lesson two; if the 3 days pass, send "
     "an SMS nudge instead.",
     {"entry": {"type": "event_entry", "event_type": "course_enrolled"},
      "sends": {"send_push": 1, "send_email": 1, "send_sms": 1},
      "waits": ["1h"],
      "wait_for_event": [{"event_type": "lesson_completed", "timeout": "3d"}],
      "edges": ["wait_for_event[event_received]->send_email", "wait_for_event[timed_out]->send_sms"]})

# 14
case("marketplace_seller_slack_14", "slack", "marketplace",
     ["entry", "channels", "timing"],
     "yo when a seller gets their first sale (`first_sale`) send them a congrats email, and mail them a printed "
     "postcard with our welcome kit. 3d later a push with tips for boosting listings",
     {"entry": {"type": "event_entry", "event_type": "first_sale"},
      "sends": {"send_email": 1, "send_push": 1},
      "waits": ["3d"],
      "must_flag": ["postcard"]})

# 15
case("utilities_outage_ticket_15", "ticket", "utilities",
     ["entry", "channels", "timing", "alternatives"],
     "UTIL-301 Outage notifications\n"
     "Trigger: our grid monitoring system calls a webhook when an outage is detected at a customer's address.\n"
     "Steps: SMS immediately with the estimated restore time. Then wait for `power_restored`, up to 12h; when it "
     "arrives send an SMS \"power is back\". If it times out, send an email with a bill credit claim link.",
     {"entry": {"type": "webhook_entry"},
      "sends": {"send_sms": 2, "send_email": 1},
      "wait_for_event": [{"event_type": "power_restored", "timeout": "12h"}],
      "edges": ["wait_for_event[event_received]->send_sms", "wait_for_event[timed_out]->send_email"]})

# 16
case("public_tax_email_16", "email", "public_sector",
     ["entry", "channels", "wait_until", "exits"],
     "Dear agency,\n\nThe revenue office wants reminders for the annual filing deadline. Audience: everyone in the "
     "segment `self_assessment_filers` (enrol the existing members once). Send an email now explaining the deadline, "
     "then hold everyone until 2027-01-24T09:00:00Z and send an SMS reminder. Anyone who files (`return_filed`) "
     "should drop out of the journey.\n\nKind regards,\nDigital Services Team",
     {"entry": {"type": "segment_entry", "segment": "self_assessment_filers"},
      "sends": {"send_email": 1, "send_sms": 1},
      "wait_until": [{"until": "2027-01-24T09:00:00Z"}],
      "exit": {"event_type": "return_filed"}})

# 17
case("ecom_vip_ab3_bullets_17", "bullets", "ecommerce",
     ["entry", "ab", "channels", "goals"],
     "VIP early access test\n"
     "- entry: customer joins the `vip` segment\n"
     "- three-way equal split:\n"
     "  - A: email\n"
     "  - B: sms\n"
     "  - C: push\n"
     "- goal: they buy from the early-access drop (`early_access_purchase`)",
     {"entry": {"type": "segment_entry", "segment": "vip"},
      "ab": ["equal:3"],
      "sends": {"send_email": 1, "send_sms": 1, "send_push": 1},
      "goal": {"event_type": "early_access_purchase"}})

# 18
case("bank_card_ticket_18", "ticket", "banking",
     ["entry", "ab", "channels", "unless", "goals"],
     "CARD-19: Card activation nudge\n"
     "When `card_issued` fires: 90% get the treatment, 10% are a control group (no messages).\n"
     "Treatment: push right away, then an email if they haven't activated (`card_activated`) within 48h.\n"
     "Goal: card activated.",
     {"entry": {"type": "event_entry", "event_type": "card_issued"},
      "ab": [[90, 10]],
      "sends": {"send_push": 1, "send_email": 1},
      "edges": ["wait_for_event[timed_out]->send_email"],
      "goal": {"event_type": "card_activated"}})

# 19
case("saas_usage_cap_slack_19", "slack", "saas",
     ["entry", "channels", "caps"],
     "need a 'usage limit reached' alert. `usage_limit_reached` event starts it. send email + push at the same time. "
     "but dont spam: max 1 push per day per user across everything, and max 3 emails a week",
     {"entry": {"type": "event_entry", "event_type": "usage_limit_reached"},
      "sends": {"send_email": 1, "send_push": 1},
      "cap": {"channel": "push", "max": 1, "window": "1d"}},
     note="two caps are given; only the push one is checked (the email cap is 3/7d)")

# 20
case("travel_checkin_prose_20", "prose", "travel",
     ["entry", "channels", "wait_until", "conditions"],
     "For every booked flight (`flight_booked`), send the booking email straight away. Then wait until 24 hours "
     "before the profile attribute `next_departure_at` and send a push reminding them to check in online. "
     "If they have opted in to WhatsApp (`whatsapp_opt_in`), send the boarding info on WhatsApp at that point too.",
     {"entry": {"type": "event_entry", "event_type": "flight_booked"},
      "sends": {"send_email": 1, "send_push": 1, "send_whatsapp": 1},
      "wait_until": [{"until": "customer.next_departure_at", "offset": "-24h"}],
      "conditions": [{"attribute": "whatsapp_opt_in"}]})

# 21
case("health_hydration_bullets_21", "bullets", "health_fitness",
     ["entry", "channels", "caps", "exits"],
     "Hydration reminders\n"
     "* every day at 14:00 Asia/Tokyo for segment `hydration_goal_on`\n"
     "* push \"time for a glass of water\"\n"
     "* never more than 4 pushes in 24h in total\n"
     "* exit as soon as `hydration_paused` is true on their profile",
     {"entry": {"type": "scheduled_entry", "cron": "0 14 * * *", "timezone": "Asia/Tokyo",
                "segment": "hydration_goal_on"},
      "sends": {"send_push": 1},
      "cap": {"channel": "push", "max": 4, "window": "24h"},
      "exit": {"expression_mentions": ["hydration_paused"]}})

# 22
case("insurance_claim_email_22", "email", "insurance",
     ["entry", "channels", "timing", "unless", "exits"],
     "Hi both,\n\nClaims journey: when `claim_submitted` comes in, send an email acknowledging it. Five days later "
     "send an SMS asking for the missing documents, unless they've uploaded them already (event `documents_uploaded`). "
     "Once `claim_closed` fires, take them out of the journey.\n\nThanks",
     {"entry": {"type": "event_entry", "event_type": "claim_submitted"},
      "sends": {"send_email": 1, "send_sms": 1},
      "wait_for_event": [{"event_type": "documents_uploaded", "timeout": "5d"}],
      "edges": ["wait_for_event[timed_out]->send_sms"],
      "exit": {"event_type": "claim_closed"}})

# 23
case("ecom_review_shorthand_23", "shorthand", "ecommerce",
     ["entry", "channels", "timing", "unless"],
     "order_delivered -> T+1 email 'review your order' -> T+4 push if !reviewed (review_submitted) -> end",
     {"entry": {"type": "event_entry", "event_type": "order_delivered"},
      "sends": {"send_email": 1, "send_push": 1},
      "waits": ["1d"],
      "wait_for_event": [{"event_type": "review_submitted", "timeout": "3d"}],
      "edges": ["wait_for_event[timed_out]->send_push"]},
     note="T+4 is from entry, i.e. 3 days after the T+1 email")

# 24
case("streaming_trial_ab_chat_24", "chat", "media_streaming",
     ["entry", "ab"],
     "Hey! pasting from our planning thread:\n"
     "> when `free_trial_started` fires, A/B test the day-3 message: 70% get a push, 30% get an email\n"
     "> on day 6 everyone gets an email 'your trial ends tomorrow'",
     {"entry": {"type": "event_entry", "event_type": "free_trial_started"},
      "ab": [[70, 30]]},
     note="sends/waits not checked: the day-6 step may be shared by both arms or copied into each")

# 25
case("b2b_webinar_ticket_25", "ticket", "b2b",
     ["entry", "channels", "timing", "caps"],
     "MKT-1207 Webinar reminders\n"
     "Trigger: every Tuesday at 15:30 Europe/Paris, for segment `webinar_registrants`\n"
     "Email at trigger time, then an SMS 1 hour after.\n"
     "Cap: don't send anyone more than 2 SMS per week.",
     {"entry": {"type": "scheduled_entry", "cron": "30 15 * * 2", "timezone": "Europe/Paris",
                "segment": "webinar_registrants"},
      "sends": {"send_email": 1, "send_sms": 1},
      "waits": ["1h"],
      "cap": {"channel": "sms", "max": 2, "window": "7d"}})

# 26
case("telecom_data_slack_26", "slack", "telecom",
     ["entry", "channels", "conditions", "alternatives"],
     "when `data_usage_80pct` hits, check their plan - if plan = unlimited send a push about roaming add-ons, "
     "otherwise send an sms offering a data top-up",
     {"entry": {"type": "event_entry", "event_type": "data_usage_80pct"},
      "sends": {"send_push": 1, "send_sms": 1},
      "conditions": [{"attribute": "plan", "value": "unlimited"}],
      "edges": ["condition[true]->send_push", "condition[false]->send_sms"]})

# 27
case("fintech_ltv_prose_27", "prose", "fintech",
     ["entry", "channels", "conditions", "caps"],
     "Whenever a customer completes a transfer (`transfer_completed`), look at their `lifetime_value`. Customers "
     "above $1,000 get an email inviting them to our Premier account; the rest get nothing for now. Either way we "
     "don't want more than one email per customer every 3 days from us overall.",
     {"entry": {"type": "event_entry", "event_type": "transfer_completed"},
      "sends": {"send_email": 1},
      "conditions": [{"attribute": "lifetime_value", "value": 1000}],
      "cap": {"channel": "email", "max": 1, "window": "3d"}})

# 28
case("gaming_lapsed_bullets_28", "bullets", "gaming",
     ["entry", "channels", "timing", "unless", "exits"],
     "- audience: players entering the `lapsed_7d` segment\n"
     "- push immediately: 'your daily chest is waiting'\n"
     "- 2 days later another push, unless they've logged in (`session_started`) in the meantime\n"
     "- exit if `account_deleted`",
     {"entry": {"type": "segment_entry", "segment": "lapsed_7d"},
      "sends": {"send_push": 2},
      "wait_for_event": [{"event_type": "session_started", "timeout": "2d"}],
      "edges": ["wait_for_event[timed_out]->send_push"],
      "exit": {"event_type": "account_deleted"}})

# 29
case("nonprofit_gala_email_29", "email", "non_profit",
     ["entry", "channels", "timing"],
     "Hi!\n\nFor the gala, please set up: an email invitation, a WhatsApp reminder three days later, and then have our "
     "volunteers phone everyone who hasn't RSVP'd.\n\nCheers, Tom",
     {"ask_entry": True,
      "sends": {"send_email": 1, "send_whatsapp": 1},
      "waits": ["3d"],
      "must_flag": ["phone"]},
     note="no trigger or audience; volunteer phone calls are not a node type")

# 30
case("loyalty_birthday_slack_30", "slack", "retail_loyalty",
     ["entry", "channels", "wait_until"],
     "can we do a pre-birthday thing: for everyone in `loyalty_members`, a push 7 days before their `next_birthday` "
     "saying their gift is ready soon. nothing else",
     {"entry": {"type": "segment_entry", "segment": "loyalty_members"},
      "sends": {"send_push": 1},
      "wait_until": [{"until": "customer.next_birthday", "offset": "-7d"}]})

# 31
case("saas_renewal_ticket_31", "ticket", "saas",
     ["entry", "channels", "wait_until", "conditions", "exits"],
     "SUB-77 Annual renewal heads-up\n"
     "Entry: event `subscription_renewal_scheduled`\n"
     "1. Wait until 14 days before `renewal_date`, then send email \"Your plan renews soon\".\n"
     "2. Right after, if `seats` >= 50, also send them an SMS.\n"
     "Exit: `subscription_cancelled`",
     {"entry": {"type": "event_entry", "event_type": "subscription_renewal_scheduled"},
      "sends": {"send_email": 1, "send_sms": 1},
      "wait_until": [{"until": "customer.renewal_date", "offset": "-14d"}],
      "conditions": [{"attribute": "seats", "value": 50}],
      "exit": {"event_type": "subscription_cancelled"}})

# 32
case("edu_scholarship_sheet_32", "planning-sheet", "education",
     ["entry", "channels", "timing", "conditions"],
     "Journey | Trigger | Step | Timing | Channel | Notes\n"
     "Scholarship app | application_submitted | Confirmation | Day 0 | Email |\n"
     "Scholarship app | | Interview tips | Day 4 | Email |\n"
     "Scholarship app | | Missing docs reminder | Day 10 | SMS | only if `docs_complete` = false",
     {"entry": {"type": "event_entry", "event_type": "application_submitted"},
      "sends": {"send_email": 2, "send_sms": 1},
      "waits": ["4d", "6d"],
      "conditions": [{"attribute": "docs_complete"}]},
     note="Day columns are counted from entry")

# 33
case("ecom_backinstock_prose_33", "prose", "ecommerce",
     ["entry", "channels", "timing"],
     "When a product someone asked to be notified about comes back in stock, we want to tell them straight away by "
     "push - and if the push can't reach them, by email instead.",
     {"entry": {"type": "event_entry"},
      "sends": {"send_push": 1, "send_email": 1},
      "waits": []},
     note="event described in words only, so its name is not checked; the fallback may be a failed branch or a condition")

# 34
case("travel_search_slack_34", "slack", "travel",
     ["entry", "channels", "timing", "unless"],
     "hey, for ppl who search a route but dont book: entry `flight_search`. wait for `flight_booked` or 2 days. "
     "if booked -> nothing. if not -> email w/ price alert signup. then if they still havent booked 3 days after "
     "that email -> push",
     {"entry": {"type": "event_entry", "event_type": "flight_search"},
      "sends": {"send_email": 1, "send_push": 1},
      "wait_for_event": [{"event_type": "flight_booked", "timeout": "2d"},
                         {"event_type": "flight_booked", "timeout": "3d"}],
      "edges": ["wait_for_event[timed_out]->send_email", "wait_for_event[timed_out]->send_push"]})

# 35
case("insurance_quote_ab_email_35", "email", "insurance",
     ["entry", "ab", "channels", "goals"],
     "Hi,\n\nFor the car insurance quote follow-up (`quote_created`), we'd like to test three versions of the first "
     "email: the discount version to 50% of people, the testimonial version to 25% and a plain reminder to the "
     "remaining 25%. Send it 1 hour after the quote. Goal: they buy a policy (`policy_purchased`).\n\nRegards, Lena",
     {"entry": {"type": "event_entry", "event_type": "quote_created"},
      "ab": [[50, 25, 25]],
      "sends": {"send_email": 3},
      "goal": {"event_type": "policy_purchased"}},
     note="waits not checked: the 1h wait may sit before the split or in each arm")

# 36
case("fitness_streak_bullets_36", "bullets", "health_fitness",
     ["entry", "channels", "conditions", "alternatives", "goals"],
     "- `workout_logged` starts it\n"
     "- if `streak_days` is 30 or more -> push 'legend badge unlocked'\n"
     "- otherwise -> email with our 30-day challenge instead\n"
     "- goal 'challenge_joined' = when they fire `challenge_joined`",
     {"entry": {"type": "event_entry", "event_type": "workout_logged"},
      "sends": {"send_push": 1, "send_email": 1},
      "conditions": [{"attribute": "streak_days", "value": 30}],
      "edges": ["condition[true]->send_push", "condition[false]->send_email"],
      "goal": {"goal_name": "challenge_joined", "event_type": "challenge_joined"}})

# 37
case("media_digest_shorthand_37", "shorthand", "media",
     ["entry", "channels", "caps"],
     "sched: Fri 07:00 America/Chicago | seg: weekly_digest_optin | email digest | cap email 3/wk",
     {"entry": {"type": "scheduled_entry", "cron": "0 7 * * 5", "timezone": "America/Chicago",
                "segment": "weekly_digest_optin"},
      "sends": {"send_email": 1},
      "cap": {"channel": "email", "max": 3, "window": "7d"}})

# 38
case("utilities_bill_prose_38", "prose", "utilities",
     ["entry", "channels", "wait_until", "conditions", "exits"],
     "Each month when a bill is issued (`bill_issued`), send the bill by email. Then, 3 days before the `due_date` "
     "on the customer's profile, send an SMS reminder if `autopay_enabled` is false. Customers who pay (`bill_paid`) "
     "leave the journey.",
     {"entry": {"type": "event_entry", "event_type": "bill_issued"},
      "sends": {"send_email": 1, "send_sms": 1},
      "wait_until": [{"until": "customer.due_date", "offset": "-3d"}],
      "conditions": [{"attribute": "autopay_enabled"}],
      "exit": {"event_type": "bill_paid"}})

# 39
case("marketplace_pricedrop_slack_39", "slack", "marketplace",
     ["entry", "channels", "timing", "unless"],
     "pls build: push 'items you viewed dropped in price', then if they don't open the app within a day, an email. thx",
     {"ask_entry": True,
      "sends": {"send_push": 1, "send_email": 1},
      "wait_for_event": [{"timeout": "1d"}],
      "edges": ["wait_for_event[timed_out]->send_email"]},
     note="no trigger; the app-open event name is not given, so only the timeout is checked")

# 40
case("bank_lowbalance_ticket_40", "ticket", "banking",
     ["entry", "channels", "timing", "conditions", "caps"],
     "BANK-554 Low balance alert\n"
     "Trigger: event `balance_updated`\n"
     "Rule: if `balance` < 100 send SMS \"your balance is low\"; otherwise do nothing\n"
     "Cap: max 1 SMS per 24h\n"
     "Timing: immediate",
     {"entry": {"type": "event_entry", "event_type": "balance_updated"},
      "sends": {"send_sms": 1},
      "waits": [],
      "conditions": [{"attribute": "balance", "value": 100}],
      "cap": {"channel": "sms", "max": 1, "window": "24h"}})

# 41
case("saas_onboarding_prose_41", "prose", "saas",
     ["entry", "channels", "timing", "exits"],
     "Once a workspace is created (`workspace_created`), the admin gets a welcome email. One day later we send a push "
     "with the mobile app link. On day 7 (counted from when the workspace was created) they get an email with advanced tips, and 4 more "
     "days after that an email asking for feedback. Stop everything if the workspace is deleted (`workspace_deleted`).",
     {"entry": {"type": "event_entry", "event_type": "workspace_created"},
      "sends": {"send_email": 3, "send_push": 1},
      "waits": ["1d", "6d", "4d"],
      "exit": {"event_type": "workspace_deleted"}})

# 42
case("loyalty_country_chat_42", "chat", "retail_loyalty",
     ["entry", "conditions", "alternatives"],
     "Anna: when someone joins the loyalty program (`loyalty_joined`) - if country is DE, send the German welcome email, "
     "otherwise send the English one\n"
     "Anna: and 24h later a push to everyone",
     {"entry": {"type": "event_entry", "event_type": "loyalty_joined"},
      "conditions": [{"attribute": "country", "value": "DE"}],
      "edges": ["condition[true]->send_email", "condition[false]->send_email"]},
     note="sends/waits not checked: the 24h push may be shared or copied into both branches")

# 43
case("telecom_roaming_shorthand_43", "shorthand", "telecom",
     ["entry", "channels", "timing"],
     "evt: roaming_started -> sms roaming rates now -> 12h -> push data pass offer -> sync them to Salesforce as 'roamer'",
     {"entry": {"type": "event_entry", "event_type": "roaming_started"},
      "sends": {"send_sms": 1, "send_push": 1},
      "waits": ["12h"],
      "must_flag": ["Salesforce"]})

# 44
case("gaming_tournament_slack_44", "slack", "gaming",
     ["entry", "ab", "channels"],
     "for the tournament launch: on `tournament_registered`, 20% control gets nothing, 40% get a push, 40% get email+push",
     {"entry": {"type": "event_entry", "event_type": "tournament_registered"},
      "ab": [[20, 40, 40]],
      "sends": {"send_push": 2, "send_email": 1}})

# 45
case("edu_exam_email_45", "email", "education",
     ["entry", "channels", "wait_until", "goals"],
     "Hello,\n\nFor students in the segment `exam_june_2027`, please send an email now with the exam guide, and a "
     "push at 2027-06-01T07:00:00Z (8am London time) wishing them luck. Goal 'exam_booked' is reached when they fire "
     "`exam_slot_booked`.\n\nThanks!",
     {"entry": {"type": "segment_entry", "segment": "exam_june_2027"},
      "sends": {"send_email": 1, "send_push": 1},
      "wait_until": [{"until": "2027-06-01T07:00:00Z"}],
      "goal": {"goal_name": "exam_booked", "event_type": "exam_slot_booked"}})

# 46
case("health_clinic_ticket_46", "ticket", "healthcare",
     ["entry", "channels", "wait_until", "exits", "caps"],
     "CLN-12 Appointment reminders\n"
     "Trigger: `appointment_booked`\n"
     "- SMS confirmation immediately\n"
     "- SMS reminder 24h before `appointment_at`\n"
     "- if they cancel (`appointment_cancelled`) -> exit\n"
     "- do not send more than 3 SMS in 7 days",
     {"entry": {"type": "event_entry", "event_type": "appointment_booked"},
      "sends": {"send_sms": 2},
      "wait_until": [{"until": "customer.appointment_at", "offset": "-24h"}],
      "exit": {"event_type": "appointment_cancelled"},
      "cap": {"channel": "sms", "max": 3, "window": "7d"}})

# 47
case("nonprofit_volunteer_bullets_47", "bullets", "non_profit",
     ["entry", "channels", "timing", "alternatives", "goals"],
     "- entry: webhook from our volunteer sign-up form\n"
     "- email: welcome + orientation dates\n"
     "- wait for `orientation_attended` up to 10 days\n"
     "  - attended -> thank-you email, and that's our goal 'activated_volunteer'\n"
     "  - didn't -> SMS with the next dates",
     {"entry": {"type": "webhook_entry"},
      "sends": {"send_email": 2, "send_sms": 1},
      "wait_for_event": [{"event_type": "orientation_attended", "timeout": "10d"}],
      "edges": ["wait_for_event[event_received]->send_email", "wait_for_event[timed_out]->send_sms"],
      "goal": {"goal_name": "activated_volunteer", "event_type": "orientation_attended"}})

# 48
case("travel_hotel_review_prose_48", "prose", "travel",
     ["entry", "channels", "conditions"],
     "When a hotel stay ends (`checkout_completed`), ask for a review by email after 6 hours - unless it was a business "
     "booking (`booking_type` is \"business\"), in which case send the invoice summary email instead.",
     {"entry": {"type": "event_entry", "event_type": "checkout_completed"},
      "sends": {"send_email": 2},
      "conditions": [{"attribute": "booking_type", "value": "business"}]},
     note="'unless' here is an attribute condition, not an event; edges not checked because the 6h wait may sit before or after the condition")

# 49
case("ecom_dealday_slack_49", "slack", "ecommerce",
     ["entry", "ab", "channels", "timing"],
     "every thursday 18:00 madrid time (Europe/Madrid), take the `deal_hunters` segment and split them evenly "
     "between subject line A and subject line B for the deal email. nothing after that",
     {"entry": {"type": "scheduled_entry", "cron": "0 18 * * 4", "timezone": "Europe/Madrid",
                "segment": "deal_hunters"},
      "ab": ["equal:2"],
      "sends": {"send_email": 2},
      "waits": []})

# 50
case("insurance_addon_bullets_50", "bullets", "insurance",
     ["entry", "channels", "timing", "conditions"],
     "Home add-on cross-sell\n"
     "- email: home insurance add-on offer\n"
     "- 5 days later: SMS, only if `has_home_policy` is false\n"
     "- track conversions",
     {"ask_entry": True,
      "sends": {"send_email": 1, "send_sms": 1},
      "waits": ["5d"],
      "conditions": [{"attribute": "has_home_policy"}]},
     note="no trigger or audience is named")

# 51
case("streaming_pause_shorthand_51", "shorthand", "media_streaming",
     ["entry", "channels"],
     "on subscription_paused: email 'we miss you' -> 7d later add them to our Meta retargeting audience",
     {"entry": {"type": "event_entry", "event_type": "subscription_paused"},
      "sends": {"send_email": 1},
      "must_flag": ["retargeting"]})

# 52
case("retail_friday_chat_52", "chat", "retail",
     ["entry", "channels"],
     "Sam: can we email our best customers every Friday at 10am Berlin time with the weekend picks?\n"
     "Sam: just the one email",
     {"entry": {"type": "scheduled_entry", "cron": "0 10 * * 5", "timezone": "Europe/Berlin"},
      "sends": {"send_email": 1},
      "must_ask": ["segment"]},
     note="'best customers' names no segment: the designer must ask which segment")

# 53
case("fintech_statement_prose_53", "prose", "fintech",
     ["entry", "channels", "timing", "alternatives"],
     "When a monthly statement is ready (`statement_ready`), we send a push. Then we wait up to 3 days for them to "
     "open it in the app (`statement_viewed`). If they view it, nothing else happens. If they don't, we send the "
     "statement by email instead.",
     {"entry": {"type": "event_entry", "event_type": "statement_ready"},
      "sends": {"send_push": 1, "send_email": 1},
      "wait_for_event": [{"event_type": "statement_viewed", "timeout": "3d"}],
      "edges": ["wait_for_event[timed_out]->send_email"]})

# 54
case("telecom_payment_ticket_54", "ticket", "telecom",
     ["entry", "channels", "timing", "conditions", "alternatives"],
     "BILL-903 Failed payment recovery\n"
     "Trigger: `payment_failed`\n"
     "Wait 2h, then: if `payment_method` = direct_debit -> email with a link to update bank details; "
     "else -> SMS with a card update link.",
     {"entry": {"type": "event_entry", "event_type": "payment_failed"},
      "sends": {"send_email": 1, "send_sms": 1},
      "waits": ["2h"],
      "conditions": [{"attribute": "payment_method", "value": "direct_debit"}],
      "edges": ["condition[true]->send_email", "condition[false]->send_sms"]})


# 55
case("fitness_reactivation_sheet_55", "planning-sheet", "health_fitness",
     ["entry", "channels", "unless", "caps", "goals"],
     "Campaign: Gym reactivation | Entry: segment inactive_30d | Step 1: d0 push 'we saved your spot' | "
     "Step 2: d2 email if no `gym_checkin` by then | Cap: push 1/3d | Goal: gym_checkin",
     {"entry": {"type": "segment_entry", "segment": "inactive_30d"},
      "sends": {"send_push": 1, "send_email": 1},
      "edges": ["wait_for_event[timed_out]->send_email"],
      "cap": {"channel": "push", "max": 1, "window": "3d"},
      "goal": {"event_type": "gym_checkin"}})

# 56
case("dating_onboarding_sheet_56", "planning-sheet", "dating_app",
     ["entry", "channels", "timing", "conditions"],
     "step\twhen\tchannel\tcopy\tnotes\n"
     "1\ton signup (event user_registered)\temail\twelcome\t\n"
     "2\tday 1 after signup\tpush\tcomplete your profile\t\n"
     "3\tday 3 after signup\temail\thow matching works\t\n"
     "4\tday 6 after signup\tsms\tfirst month half price\tonly if country is US",
     {"entry": {"type": "event_entry", "event_type": "user_registered"},
      "sends": {"send_email": 2, "send_push": 1, "send_sms": 1},
      "waits": ["1d", "2d", "3d"],
      "conditions": [{"attribute": "country", "value": "US"}]},
     note="days are counted from signup, so the waits are 1d, 2d, 3d")


# 57
case("ecom_subbox_ticket_57", "ticket", "ecommerce",
     ["entry", "channels", "timing", "exits"],
     "OPS-31 Box shipped comms\n"
     "When our warehouse system hits the journey webhook (box shipped), send an SMS with the tracking link right away, "
     "then 3 days later an email \"how was your box?\". Exit if `box_returned` comes in.",
     {"entry": {"type": "webhook_entry"},
      "sends": {"send_sms": 1, "send_email": 1},
      "waits": ["3d"],
      "exit": {"event_type": "box_returned"}})

# 58
case("public_permit_prose_58", "prose", "public_sector",
     ["entry", "channels", "timing", "unless"],
     "The permit system will call a webhook when an application is approved. Send the applicant an email with the "
     "link to their permit, then wait up to 7 days for `permit_downloaded`; if they haven't downloaded it by then, "
     "send an SMS reminder.",
     {"entry": {"type": "webhook_entry"},
      "sends": {"send_email": 1, "send_sms": 1},
      "wait_for_event": [{"event_type": "permit_downloaded", "timeout": "7d"}],
      "edges": ["wait_for_event[timed_out]->send_sms"]})

# 59
case("gaming_season_shorthand_59", "shorthand", "gaming",
     ["entry", "channels", "timing", "caps"],
     "write me a journey: d0 push 'new season is live' / d2 push 'double xp weekend' / cap push 1/day",
     {"ask_entry": True,
      "sends": {"send_push": 2},
      "waits": ["2d"],
      "cap": {"channel": "push", "max": 1, "window": "1d"}},
     note="no trigger or audience is named")


FEATURE_FIELDS = {
    "entry": {"entry", "ask_entry"}, "channels": {"sends"}, "timing": {"waits", "wait_for_event"},
    "conditions": {"conditions"}, "alternatives": {"edges"}, "unless": {"edges"}, "exits": {"exit"},
    "wait_until": {"wait_until"}, "ab": {"ab"}, "caps": {"cap"}, "goals": {"goal"},
}
ANY = {"must_ask", "must_flag", "error"}


def check(c):
    f, e = c["features"], c["expect"]
    for feat in f:
        assert feat in FEATURE_FIELDS, (c["name"], feat)
        assert FEATURE_FIELDS[feat] & set(e), (c["name"], "feature without field", feat)
    for k in e:
        if k in ANY:
            continue
        owners = [ft for ft, flds in FEATURE_FIELDS.items() if k in flds]
        assert owners, (c["name"], "unknown field", k)
        assert any(o in f for o in owners), (c["name"], "field without feature", k)
    if "edges" in e:
        assert "alternatives" in f or "unless" in f


if __name__ == "__main__":
    names = set()
    for c in C:
        check(c)
        assert c["name"] not in names
        names.add(c["name"])
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "briefs.json")
    with open(out, "w") as fh:
        json.dump(C, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    print(len(C), "briefs written")
