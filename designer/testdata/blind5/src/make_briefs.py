#!/usr/bin/env python3
"""Writes ../briefs.json (blind set 5). Run: python3 src/make_briefs.py"""
import json, os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "briefs.json")

E = lambda ev: {"type": "event_entry", "event_type": ev}
SEG = lambda s: {"type": "segment_entry", "segment": s}
WFE = lambda ev, t: {"event_type": ev, "timeout": t}
WU = lambda attr, off=None: ({"until": "customer." + attr, "offset": off} if off else {"until": "customer." + attr})

cases = []


def case(name, style, industry, text, features, expect, note=None):
    c = {"name": name, "style": style, "industry": industry, "text": text,
         "features": features, "expect": expect}
    if note:
        c["note"] = note
    cases.append(c)


case("ecom_cart_slack_01", "slack", "ecommerce",
     "hey can we set up an abandoned cart flow? trigger is `cart_abandoned`. wait 1h then email them the cart, "
     "and if they dont buy (`order_completed`) within 24h after that send an sms with 10% off. "
     "if they empty the cart (`cart_cleared`) pull them out of the flow",
     ["entry", "channels", "timing", "unless", "exits"],
     {"entry": E("cart_abandoned"), "sends": {"send_email": 1, "send_sms": 1}, "waits": ["1h"],
      "wait_for_event": [WFE("order_completed", "24h")],
      "edges": ["wait_for_event[timed_out]->send_sms"], "exit": {"event_type": "cart_cleared"}})

case("saas_trial_ticket_02", "ticket", "saas",
     "KAL-412: Trial nurture\n"
     "Trigger: `trial_started`\n"
     "Steps:\n"
     "1. Welcome email immediately\n"
     "2. Day 3: product tips email\n"
     "3. Day 7: if plan = pro -> email about advanced features, otherwise email with the upgrade pitch\n"
     "Acceptance criteria: customer leaves the journey when `subscription_created` fires.",
     ["entry", "channels", "timing", "conditions", "alternatives", "exits"],
     {"entry": E("trial_started"), "sends": {"send_email": 4}, "waits": ["3d", "4d"],
      "conditions": [{"attribute": "plan", "value": "pro"}],
      "edges": ["condition[true]->send_email", "condition[false]->send_email"],
      "exit": {"event_type": "subscription_created"}},
     "Day 3 and Day 7 are counted from entry (step 1 is immediate), so the waits are 3d then 4d.")

case("fintech_kyc_shorthand_03", "shorthand", "fintech",
     "entry: kyc_approved\n"
     "d0 email welcome\n"
     "d1 push 'fund your account'\n"
     "d3 sms unless `first_deposit` seen\n"
     "goal: first_deposit",
     ["entry", "channels", "timing", "unless", "goals"],
     {"entry": E("kyc_approved"), "sends": {"send_email": 1, "send_push": 1, "send_sms": 1},
      "waits": ["1d"], "wait_for_event": [WFE("first_deposit", "2d")],
      "edges": ["wait_for_event[timed_out]->send_sms"], "goal": {"event_type": "first_deposit"}},
     "d1 -> d3 is 2 days of waiting for first_deposit; the goal sits on the event_received branch.")

case("insurance_renewal_email_04", "email", "insurance",
     "Hi team,\n\nFor the home insurance renewals we'd like a journey that starts for everyone who enters the "
     "`renewal_due_60d` segment. Send an email 14 days before their policy_renewal_date, then an SMS 2 days "
     "before the same date. If they renew (`policy_renewed`) they should leave the journey straight away.\n\n"
     "Thanks,\nPriya",
     ["entry", "channels", "wait_until", "exits"],
     {"entry": SEG("renewal_due_60d"), "sends": {"send_email": 1, "send_sms": 1},
      "wait_until": [WU("policy_renewal_date", "-14d"), WU("policy_renewal_date", "-2d")],
      "exit": {"event_type": "policy_renewed"}})

case("travel_checkin_bullets_05", "bullets", "travel",
     "Check-in reminders\n"
     "- starts when `booking_confirmed` comes in\n"
     "- 24 hours before departure_time: check-in email\n"
     "- 3 hours before departure_time: push with gate info\n"
     "- if they cancel (`booking_cancelled`) end it",
     ["entry", "channels", "wait_until", "exits"],
     {"entry": E("booking_confirmed"), "sends": {"send_email": 1, "send_push": 1},
      "wait_until": [WU("departure_time", "-24h"), WU("departure_time", "-3h")],
      "exit": {"event_type": "booking_cancelled"}})

case("media_winback_prose_06", "prose", "media",
     "Our streaming service loses a lot of people right after they cancel. When a subscriber cancels (we emit "
     "`subscription_cancelled`), we want to wait a week and then send a win-back email with our comeback offer. "
     "If they haven't resubscribed four more days after that, send a push notification reminding them of the "
     "shows they were watching. Anyone who resubscribes - the event is `subscription_reactivated` - has reached "
     "our goal, and we'd like to record that as the 'reactivated' goal.",
     ["entry", "channels", "timing", "unless", "goals"],
     {"entry": E("subscription_cancelled"), "sends": {"send_email": 1, "send_push": 1}, "waits": ["7d"],
      "wait_for_event": [WFE("subscription_reactivated", "4d")],
      "edges": ["wait_for_event[timed_out]->send_push"],
      "goal": {"goal_name": "reactivated", "event_type": "subscription_reactivated"}})

case("telecom_topup_ab_slack_07", "slack", "telecom",
     "can we test two versions of the data top-up nudge? people enter when they hit `data_usage_80pct`. "
     "split 50/50 - A gets an sms, B gets a push. cap sms at 1 per day pls",
     ["entry", "channels", "ab", "caps"],
     {"entry": E("data_usage_80pct"), "sends": {"send_sms": 1, "send_push": 1}, "ab": [[50, 50]],
      "cap": {"channel": "sms", "max": 1, "window": "1d"}})

case("gaming_lapsed_chat_08", "chat", "gaming",
     "Lead: ok so for the lapsed players thing\n"
     "Me: what's the trigger?\n"
     "Lead: they drop into the `lapsed_14d` segment\n"
     "Lead: do a three-way split, equal thirds: a push with free coins, an email with free coins, and a control "
     "group that gets nothing\n"
     "Lead: goal is they log back in (event `session_started`), give them 3 days",
     ["entry", "channels", "ab", "goals"],
     {"entry": SEG("lapsed_14d"), "sends": {"send_push": 1, "send_email": 1}, "ab": ["equal:3"],
      "goal": {"event_type": "session_started"}})

case("ecom_summer_ask_slack_09", "slack", "ecommerce",
     "hey can we email folks the new summer collection and then 2 days later text them a free shipping code "
     "if they havent ordered yet (`order_placed`)",
     ["entry", "channels", "timing", "unless"],
     {"ask_entry": True, "sends": {"send_email": 1, "send_sms": 1},
      "wait_for_event": [WFE("order_placed", "2d")], "edges": ["wait_for_event[timed_out]->send_sms"]},
     "Who gets it ('folks') and what starts it is not said.")

case("nonprofit_postcard_email_10", "email", "non-profit",
     "Hello,\n\nWhen someone makes their first donation (`donation_received`), please send a thank-you email "
     "right away, mail them a handwritten postcard from our director, and a week later email them our impact "
     "report.\n\nBest,\nTom",
     ["entry", "channels", "timing"],
     {"entry": E("donation_received"), "sends": {"send_email": 2}, "waits": ["7d"], "must_flag": ["postcard"]})

case("health_class_shorthand_11", "shorthand", "health/fitness",
     "trigger: `class_booked`\n"
     "-> wait till class_start_time -2h -> sms reminder\n"
     "-> class_start_time +1h -> email 'how was it?'\n"
     "-> exit on `class_cancelled`",
     ["entry", "channels", "wait_until", "exits"],
     {"entry": E("class_booked"), "sends": {"send_sms": 1, "send_email": 1},
      "wait_until": [WU("class_start_time", "-2h"), WU("class_start_time", "1h")],
      "exit": {"event_type": "class_cancelled"}})

case("b2b_digest_ticket_12", "ticket", "b2b",
     "JIRA MKT-88 - Weekly pipeline digest\n"
     "Type: Story\n"
     "Description: Every Monday at 8:00 Berlin time, send the weekly digest email to the `active_accounts` "
     "segment. If account_tier is enterprise, also send a WhatsApp message from their CSM; otherwise nothing else.\n"
     "AC: runs weekly, timezone Europe/Berlin.",
     ["entry", "channels", "conditions", "alternatives"],
     {"entry": {"type": "scheduled_entry", "cron": "0 8 * * 1", "timezone": "Europe/Berlin",
                "segment": "active_accounts"},
      "sends": {"send_email": 1, "send_whatsapp": 1},
      "conditions": [{"attribute": "account_tier", "value": "enterprise"}],
      "edges": ["condition[true]->send_whatsapp"]})

case("bank_salary_prose_13", "prose", "banking",
     "When a customer's salary lands in their account (`salary_credited`), we want to look at their balance. "
     "If account_balance is over $5,000 we email them about our high-interest savings account; otherwise we send "
     "them an SMS about the overdraft buffer. Either way, two days later send a push asking them to rate the app.",
     ["entry", "conditions", "alternatives"],
     {"entry": E("salary_credited"), "conditions": [{"attribute": "account_balance", "value": 5000}],
      "edges": ["condition[true]->send_email", "condition[false]->send_sms"]},
     "Sends/waits left out: the shared push may be one merged node or one per branch.")

case("retail_points_bullets_14", "bullets", "retail loyalty",
     "Points expiry reminder\n"
     "* Audience: members entering the `points_expiring_30d` segment\n"
     "* Email on entry\n"
     "* 20 days later: push\n"
     "* 7 more days: SMS (last chance)\n"
     "* Global cap: max 3 push per 7 days\n"
     "* Exit if they redeem (`points_redeemed`)",
     ["entry", "channels", "timing", "caps", "exits"],
     {"entry": SEG("points_expiring_30d"), "sends": {"send_email": 1, "send_push": 1, "send_sms": 1},
      "waits": ["20d", "7d"], "cap": {"channel": "push", "max": 3, "window": "7d"},
      "exit": {"event_type": "points_redeemed"}})

case("edu_lesson_chat_15", "chat", "education",
     "Sarah: quick one - new course enrollments (`course_enrolled`)\n"
     "Sarah: send the welcome email, then wait for them to start lesson 1 (`lesson_started`), up to 3 days\n"
     "Sarah: if they start, push a congrats; if not, email a nudge",
     ["entry", "channels", "timing", "alternatives"],
     {"entry": E("course_enrolled"), "sends": {"send_email": 2, "send_push": 1},
      "wait_for_event": [WFE("lesson_started", "3d")],
      "edges": ["wait_for_event[event_received]->send_push", "wait_for_event[timed_out]->send_email"]})

case("utilities_outage_email_16", "email", "utilities",
     "Hi,\n\nOur outage system will call a webhook whenever a customer's area has a planned outage. From that "
     "webhook, send the customer an SMS immediately, then 12 hours later an email with the details. Please also "
     "cap SMS at 2 per day per customer across journeys.\n\nRegards,\nOps Comms",
     ["entry", "channels", "timing", "caps"],
     {"entry": {"type": "webhook_entry"}, "sends": {"send_sms": 1, "send_email": 1}, "waits": ["12h"],
      "cap": {"channel": "sms", "max": 2, "window": "1d"}})

case("public_water_prose_17", "prose", "public sector",
     "The city council wants a monthly reminder for residents to pay their water bill. On the 1st of every month "
     "at 9 in the morning, London time, email everyone in the `water_bill_customers` segment. Five days later, if "
     "bill_status is unpaid, send them an SMS; residents who have paid get nothing further.",
     ["entry", "channels", "timing", "conditions", "alternatives"],
     {"entry": {"type": "scheduled_entry", "cron": "0 9 1 * *", "timezone": "Europe/London",
                "segment": "water_bill_customers"},
      "sends": {"send_email": 1, "send_sms": 1}, "waits": ["5d"],
      "conditions": [{"attribute": "bill_status", "value": "unpaid"}],
      "edges": ["condition[true]->send_sms"]})

case("marketplace_seller_slack_18", "slack", "marketplace",
     "new sellers: on `listing_created` (their first listing) email tips right away. 2 days later push "
     "'boost your listing' unless they already got a sale (`item_sold`)",
     ["entry", "channels", "timing", "unless"],
     {"entry": E("listing_created"), "sends": {"send_email": 1, "send_push": 1},
      "wait_for_event": [WFE("item_sold", "2d")], "edges": ["wait_for_event[timed_out]->send_push"]})

case("saas_launch_ask_bullets_19", "bullets", "saas",
     "- email #1: feature announcement\n"
     "- 3 days later email #2: webinar invite\n"
     "- if plan is free, also a push with the upgrade offer after email #2",
     ["entry", "channels", "timing", "conditions"],
     {"ask_entry": True, "sends": {"send_email": 2, "send_push": 1}, "waits": ["3d"],
      "conditions": [{"attribute": "plan", "value": "free"}]},
     "No audience or trigger is given.")

case("insurance_claim_ticket_20", "ticket", "insurance",
     "INS-2231 Claim follow-up\n"
     "Trigger: `claim_submitted`\n"
     "1. SMS confirmation immediately\n"
     "2. After 48h, email with the claim status link\n"
     "3. Sync the claim record to Salesforce",
     ["entry", "channels", "timing"],
     {"entry": E("claim_submitted"), "sends": {"send_sms": 1, "send_email": 1}, "waits": ["48h"],
      "must_flag": ["Salesforce"]})

case("travel_search_ab_email_21", "email", "travel",
     "Dear agency,\n\nFor the abandoned-search journey (event `flight_search_abandoned`) we'd like to test three "
     "variants: 50% get an email with a price alert, 30% get a push, and 20% are a holdout control that receives "
     "nothing. Please wait 2 hours after the search before the split.\n\nKind regards,\nMarta",
     ["entry", "channels", "timing", "ab"],
     {"entry": E("flight_search_abandoned"), "sends": {"send_email": 1, "send_push": 1}, "waits": ["2h"],
      "ab": [[50, 30, 20]]})

case("fitness_trialpass_slack_22", "slack", "health/fitness",
     "when someone buys a trial pass (`trial_pass_purchased`) send a welcome sms. goal is they book a class, "
     "`class_booked`, within 5 days. if they do thats the goal, if not send an email with a coupon",
     ["entry", "channels", "timing", "alternatives", "goals"],
     {"entry": E("trial_pass_purchased"), "sends": {"send_sms": 1, "send_email": 1},
      "wait_for_event": [WFE("class_booked", "5d")], "edges": ["wait_for_event[timed_out]->send_email"],
      "goal": {"event_type": "class_booked"}})

case("ecom_pricedrop_shorthand_23", "shorthand", "ecommerce",
     "trig: `price_drop` (wishlisted item)\n"
     "push now\n"
     "T+1d email if !purchased (evt `order_completed`)\n"
     "cap push 2/24h",
     ["entry", "channels", "timing", "unless", "caps"],
     {"entry": E("price_drop"), "sends": {"send_push": 1, "send_email": 1},
      "wait_for_event": [WFE("order_completed", "1d")], "edges": ["wait_for_event[timed_out]->send_email"],
      "cap": {"channel": "push", "max": 2, "window": "24h"}})

case("bank_app_launch_email_24", "email", "banking",
     "Hi,\n\nThe new app launches on 15 January 2027 at 09:00 UTC. For customers in the `beta_waitlist` segment: "
     "email them now to confirm their spot, then wait until the launch (2027-01-15 09:00 UTC) and send a push "
     "saying it's live, and an SMS 1 day later if they haven't logged in by then (`app_login`).\n\nThanks,\nJonas",
     ["entry", "channels", "wait_until", "timing", "unless"],
     {"entry": SEG("beta_waitlist"), "sends": {"send_email": 1, "send_push": 1, "send_sms": 1},
      "wait_until": [{"until": "2027-01-15T09:00:00Z"}], "wait_for_event": [WFE("app_login", "1d")],
      "edges": ["wait_for_event[timed_out]->send_sms"]})

case("telecom_contract_bullets_25", "bullets", "telecom",
     "Contract end journey\n"
     "- Who: customers in segment `contract_ending`\n"
     "- 30 days before contract_end_date: email with upgrade offers\n"
     "- 7 days before contract_end_date: SMS\n"
     "- If contract_type is business, send a WhatsApp message instead of the SMS\n"
     "- Exit: `contract_renewed`",
     ["entry", "channels", "wait_until", "conditions", "alternatives", "exits"],
     {"entry": SEG("contract_ending"), "sends": {"send_email": 1, "send_sms": 1, "send_whatsapp": 1},
      "wait_until": [WU("contract_end_date", "-30d"), WU("contract_end_date", "-7d")],
      "conditions": [{"attribute": "contract_type", "value": "business"}],
      "edges": ["condition[true]->send_whatsapp", "condition[false]->send_sms"],
      "exit": {"event_type": "contract_renewed"}})

case("streaming_episode_ticket_26", "ticket", "media",
     "STRM-77: Test new-episode alert\n"
     "Entry: `show_followed`\n"
     "Wait 1 day.\n"
     "Split: 90% treatment (push 'new episode out'), 10% control (no message).\n"
     "Goal: 'engaged' = `episode_played` within 2 days.",
     ["entry", "channels", "timing", "ab", "goals"],
     {"entry": E("show_followed"), "sends": {"send_push": 1}, "waits": ["1d"], "ab": [[90, 10]],
      "goal": {"goal_name": "engaged", "event_type": "episode_played"}})

case("edu_placement_prose_27", "prose", "education",
     "When a student finishes the placement test (`placement_test_completed`), look at their score. If test_score "
     "is at least 80, email them the advanced track brochure. Otherwise, send an email recommending the foundation "
     "course instead, and a day later text them a link to book an advisor call.",
     ["entry", "channels", "timing", "conditions", "alternatives"],
     {"entry": E("placement_test_completed"), "sends": {"send_email": 2, "send_sms": 1}, "waits": ["1d"],
      "conditions": [{"attribute": "test_score", "value": 80}],
      "edges": ["condition[true]->send_email", "condition[false]->send_email"]})

case("gaming_tournament_chat_28", "chat", "gaming",
     "pm: we want a weekend tournament reminder\n"
     "me: who and when?\n"
     "pm: everyone in `tournament_players`, every Friday at 6pm Tokyo time\n"
     "pm: push first, then 2h later an email with the bracket",
     ["entry", "channels", "timing"],
     {"entry": {"type": "scheduled_entry", "cron": "0 18 * * 5", "timezone": "Asia/Tokyo",
                "segment": "tournament_players"},
      "sends": {"send_push": 1, "send_email": 1}, "waits": ["2h"]})

case("saas_onboarding_slack_29", "slack", "saas",
     "onboarding for `workspace_created`. email day 0, email day 2, email day 5. if customer.onboarding_complete "
     "becomes true they should drop out of the journey",
     ["entry", "channels", "timing", "exits"],
     {"entry": E("workspace_created"), "sends": {"send_email": 3}, "waits": ["2d", "3d"],
      "exit": {"expression_mentions": ["onboarding_complete"]}})

case("fintech_card_email_30", "email", "fintech",
     "Hi,\n\nWhen a user links a card (`card_linked`), send a push right away explaining cashback. If they make a "
     "first purchase with the card (`card_transaction`) within 7 days, mark the 'activated' goal. If not, send an "
     "SMS reminder. Limit: no customer should receive more than 2 SMS in 7 days from us.\n\nCheers,\nAli",
     ["entry", "channels", "timing", "alternatives", "goals", "caps"],
     {"entry": E("card_linked"), "sends": {"send_push": 1, "send_sms": 1},
      "wait_for_event": [WFE("card_transaction", "7d")], "edges": ["wait_for_event[timed_out]->send_sms"],
      "goal": {"goal_name": "activated", "event_type": "card_transaction"},
      "cap": {"channel": "sms", "max": 2, "window": "7d"}})

case("nonprofit_monthly_bullets_31", "bullets", "non-profit",
     "Monthly donor update\n"
     "- Audience: `monthly_donors`\n"
     "- Schedule: the 15th of each month, 10:00, Chicago time\n"
     "- Email: impact newsletter\n"
     "- If they haven't opened it (`email_opened`) in 3 days, send a short SMS version\n"
     "- Never more than 1 SMS per week per donor",
     ["entry", "channels", "timing", "unless", "caps"],
     {"entry": {"type": "scheduled_entry", "cron": "0 10 15 * *", "timezone": "America/Chicago",
                "segment": "monthly_donors"},
      "sends": {"send_email": 1, "send_sms": 1}, "wait_for_event": [WFE("email_opened", "3d")],
      "edges": ["wait_for_event[timed_out]->send_sms"], "cap": {"channel": "sms", "max": 1, "window": "7d"}})

case("ecom_postpurchase_sheet_32", "planning-sheet", "ecommerce",
     "pasting from the plan:\n"
     "Journey\tTrigger\tStep\tDay\tChannel\tCondition\n"
     "Post-purchase\torder_completed\t1\t0\tEmail (receipt + tips)\t-\n"
     "Post-purchase\torder_completed\t2\t3\tPush (review request)\t-\n"
     "Post-purchase\torder_completed\t3\t10\tEmail (cross-sell)\torder_total > 100",
     ["entry", "channels", "timing", "conditions"],
     {"entry": E("order_completed"), "sends": {"send_email": 2, "send_push": 1}, "waits": ["3d", "7d"],
      "conditions": [{"attribute": "order_total", "value": 100}]},
     "Day column is absolute from entry: day 3 then day 10 -> waits 3d and 7d.")

case("insurance_quote_ab_slack_33", "slack", "insurance",
     "for the quote-abandon flow (`quote_abandoned`) lets ab test the first touch: 70% get an email, 30% get an "
     "sms. thats it for now, nothing after",
     ["entry", "channels", "ab"],
     {"entry": E("quote_abandoned"), "sends": {"send_email": 1, "send_sms": 1}, "ab": [[70, 30]]})

case("travel_review_bullets_34", "bullets", "travel",
     "Post-stay review ask\n"
     "- trigger: `hotel_checkout`\n"
     "- 1 day after checkout: email asking for a review\n"
     "- 4 more days: push reminder, unless they've left one (`review_submitted`)\n"
     "- exit on `unsubscribed`",
     ["entry", "channels", "timing", "unless", "exits"],
     {"entry": E("hotel_checkout"), "sends": {"send_email": 1, "send_push": 1}, "waits": ["1d"],
      "wait_for_event": [WFE("review_submitted", "4d")], "edges": ["wait_for_event[timed_out]->send_push"],
      "exit": {"event_type": "unsubscribed"}})

case("health_refill_ticket_35", "ticket", "health",
     "HLTH-19: Prescription refill reminder\n"
     "Trigger: `prescription_filled`\n"
     "Wait 25 days, then:\n"
     "- if preferred_channel = sms -> SMS reminder\n"
     "- else -> email reminder\n"
     "Exit when `refill_ordered` is received.",
     ["entry", "channels", "timing", "conditions", "alternatives", "exits"],
     {"entry": E("prescription_filled"), "sends": {"send_sms": 1, "send_email": 1}, "waits": ["25d"],
      "conditions": [{"attribute": "preferred_channel", "value": "sms"}],
      "edges": ["condition[true]->send_sms", "condition[false]->send_email"],
      "exit": {"event_type": "refill_ordered"}})

case("b2b_closedwon_slack_36", "slack", "b2b",
     "our CRM will hit a webhook whenever a deal moves to closed won. from there: email the champion a kickoff "
     "guide, wait 3 days, then whatsapp them the onboarding call link",
     ["entry", "channels", "timing"],
     {"entry": {"type": "webhook_entry"}, "sends": {"send_email": 1, "send_whatsapp": 1}, "waits": ["3d"]})

case("retail_banner_chat_37", "chat", "retail loyalty",
     "Mgr: for new loyalty sign-ups (`loyalty_joined`) send the welcome email\n"
     "Mgr: and show an in-app banner with their points balance\n"
     "Mgr: then 2 days later a push with the first-purchase bonus",
     ["entry", "channels", "timing"],
     {"entry": E("loyalty_joined"), "sends": {"send_email": 1, "send_push": 1}, "waits": ["2d"],
      "must_flag": ["in-app banner"]},
     "There is no in-app message node type.")

case("saas_trialend_email_38", "email", "saas",
     "Hello,\n\nFor users whose trial is about to end - they join the `trial_ending_3d` segment - please send "
     "everyone a push on the day before trial_ends_at. Then we'd like to test urgency copy: an even split between "
     "two email versions, A and B. No user should get more than 1 push a day.\n\nThanks,\nLena",
     ["entry", "channels", "wait_until", "ab", "caps"],
     {"entry": SEG("trial_ending_3d"), "sends": {"send_push": 1, "send_email": 2},
      "wait_until": [WU("trial_ends_at", "-1d")], "ab": [[50, 50]],
      "cap": {"channel": "push", "max": 1, "window": "1d"}})

case("telecom_roaming_prose_39", "prose", "telecom",
     "When our network detects a customer abroad, the `roaming_started` event is sent. We want to text them the "
     "roaming rates immediately. If country is US, also send a push about the US day pass; for any other country "
     "send a WhatsApp message about the travel bundle instead.",
     ["entry", "channels", "conditions", "alternatives"],
     {"entry": E("roaming_started"), "sends": {"send_sms": 1, "send_push": 1, "send_whatsapp": 1},
      "conditions": [{"attribute": "country", "value": "US"}],
      "edges": ["condition[true]->send_push", "condition[false]->send_whatsapp"]})

case("utilities_meter_slack_40", "slack", "utilities",
     "for smart meter installs (`meter_install_booked`): sms 2 days before install_date, another sms 2 hours "
     "before install_date, and an email the day after install_date asking for feedback",
     ["entry", "channels", "wait_until"],
     {"entry": E("meter_install_booked"), "sends": {"send_sms": 2, "send_email": 1},
      "wait_until": [WU("install_date", "-2d"), WU("install_date", "-2h"), WU("install_date", "1d")]})

case("marketplace_buyers_ticket_41", "ticket", "marketplace",
     "MKT-5012 Buyer re-engagement\n"
     "Audience: segment `inactive_buyers_30d` (enrol when they enter it)\n"
     "Flow: push -> wait 2d -> email -> wait 5d -> sms\n"
     "Frequency cap: max 1 SMS per 7 days\n"
     "Exit: `order_placed`",
     ["entry", "channels", "timing", "caps", "exits"],
     {"entry": SEG("inactive_buyers_30d"), "sends": {"send_push": 1, "send_email": 1, "send_sms": 1},
      "waits": ["2d", "5d"], "cap": {"channel": "sms", "max": 1, "window": "7d"},
      "exit": {"event_type": "order_placed"}})

case("fintech_loan_email_42", "email", "fintech",
     "Hi all,\n\nLoan applications: when `loan_application_started` fires but they don't submit "
     "(`loan_application_submitted`) within 1 hour, send an email reminder. If they still haven't submitted after "
     "another 24 hours, send an SMS. The goal is the submission.\n\nThanks",
     ["entry", "channels", "timing", "unless", "goals"],
     {"entry": E("loan_application_started"), "sends": {"send_email": 1, "send_sms": 1},
      "wait_for_event": [WFE("loan_application_submitted", "1h"), WFE("loan_application_submitted", "24h")],
      "edges": ["wait_for_event[timed_out]->send_email", "wait_for_event[timed_out]->send_sms"],
      "goal": {"event_type": "loan_application_submitted"}})

case("edu_webinar_shorthand_43", "shorthand", "education",
     "trig: `webinar_registered`\n"
     "wait_until webinar_start -1d -> email reminder\n"
     "wait_until webinar_start -1h -> 50/50 split: sms | whatsapp",
     ["entry", "channels", "wait_until", "ab"],
     {"entry": E("webinar_registered"), "sends": {"send_email": 1, "send_sms": 1, "send_whatsapp": 1},
      "wait_until": [WU("webinar_start", "-1d"), WU("webinar_start", "-1h")], "ab": [[50, 50]]})

case("gaming_starterpack_bullets_44", "bullets", "gaming",
     "Starter pack conversion\n"
     "- Entry: players who enter the `reached_level_5` segment\n"
     "- Push immediately: starter pack 50% off\n"
     "- Wait for `starter_pack_purchased` for up to 48h\n"
     "  - bought -> record goal 'starter_pack'\n"
     "  - not bought -> email with a last-chance 60% off",
     ["entry", "channels", "timing", "alternatives", "goals"],
     {"entry": SEG("reached_level_5"), "sends": {"send_push": 1, "send_email": 1},
      "wait_for_event": [WFE("starter_pack_purchased", "48h")],
      "edges": ["wait_for_event[timed_out]->send_email"],
      "goal": {"goal_name": "starter_pack", "event_type": "starter_pack_purchased"}})

case("ecom_thankyou_ask_prose_45", "prose", "ecommerce",
     "We'd like to run a thank-you campaign this quarter. Send a personal email from the founder, then three days "
     "later a push with early access to the sale. If lifetime_spend is over $2,500, add a WhatsApp message from "
     "their stylist a day after that.",
     ["entry", "channels", "timing", "conditions"],
     {"ask_entry": True, "sends": {"send_email": 1, "send_push": 1, "send_whatsapp": 1}, "waits": ["3d", "1d"],
      "conditions": [{"attribute": "lifetime_spend", "value": 2500}]},
     "Who enters and when is never said.")

case("health_hydration_ask_chat_46", "chat", "health/fitness",
     "Dana: can we do a hydration challenge series?\n"
     "Dana: push every morning... actually no, just: push day 0, push day 2, email day 4 with results tips\n"
     "Dana: exit if they opt out (`challenge_left`)",
     ["entry", "channels", "timing", "exits"],
     {"ask_entry": True, "sends": {"send_push": 2, "send_email": 1}, "waits": ["2d", "2d"],
      "exit": {"event_type": "challenge_left"}})

case("insurance_storm_email_47", "email", "insurance",
     "Hi,\n\nPlease set up a weekday morning alert: every weekday at 7:30 Sydney time, go through the "
     "`storm_zone_policyholders` segment and send them an SMS with the day's weather warning. Cap it so no one "
     "receives more than 5 SMS in 7 days.\n\nThanks,\nRhys",
     ["entry", "channels", "caps"],
     {"entry": {"type": "scheduled_entry", "cron": "30 7 * * 1-5", "timezone": "Australia/Sydney",
                "segment": "storm_zone_policyholders"},
      "sends": {"send_sms": 1}, "cap": {"channel": "sms", "max": 5, "window": "7d"}})

case("retail_restock_slack_48", "slack", "retail",
     "back in stock alerts: trigger `back_in_stock` for a wishlisted item. if customer.push_enabled is true send a "
     "push, otherwise email. then 1 day later sms unless they bought it (`order_completed`)",
     ["entry", "conditions", "alternatives", "unless"],
     {"entry": E("back_in_stock"), "conditions": [{"attribute": "push_enabled"}],
      "edges": ["condition[true]->send_push", "condition[false]->send_email",
                "wait_for_event[timed_out]->send_sms"]},
     "Counts left out: the shared SMS step may be merged or repeated per branch.")

case("public_permit_prose_49", "prose", "public sector",
     "The licensing office's case system will notify us through a webhook when a permit application is approved. "
     "At that point, email the applicant the permit link. Thirty days before permit_expiry_date, send an email "
     "reminder, and a week before permit_expiry_date, send an SMS. If they renew (`permit_renewed`), end the "
     "journey for them.",
     ["entry", "channels", "wait_until", "exits"],
     {"entry": {"type": "webhook_entry"}, "sends": {"send_email": 2, "send_sms": 1},
      "wait_until": [WU("permit_expiry_date", "-30d"), WU("permit_expiry_date", "-7d")],
      "exit": {"event_type": "permit_renewed"}})

case("b2b_demo_ab_email_50", "email", "b2b",
     "Hi team,\n\nFor new leads from the pricing page (`demo_requested`), please wait 30 minutes, then run a "
     "three-way test with weights 40/40/20: variant A an email from the account executive, variant B an email "
     "from marketing, variant C a WhatsApp message.\n\nThanks!",
     ["entry", "channels", "timing", "ab"],
     {"entry": E("demo_requested"), "sends": {"send_email": 2, "send_whatsapp": 1}, "waits": ["30m"],
      "ab": [[40, 40, 20]]})

case("saas_dunning_chat_51", "chat", "saas",
     "Finance lead: whenever we get the \"invoice_payment_failed\" event, email them immediately\n"
     "Finance lead: sms after 1 day, and after another 2 days, if account_status is still past_due, send a push",
     ["entry", "channels", "timing", "conditions"],
     {"entry": E("invoice_payment_failed"), "sends": {"send_email": 1, "send_sms": 1, "send_push": 1},
      "waits": ["1d", "2d"], "conditions": [{"attribute": "account_status", "value": "past_due"}]})

case("media_season_words_slack_52", "slack", "media",
     "when someone finishes watching a season, email them recommendations, then 2 days later push the next show",
     ["entry", "channels", "timing"],
     {"entry": {"type": "event_entry"}, "sends": {"send_email": 1, "send_push": 1}, "waits": ["2d"]},
     "Event described in words only: the type is checked, not the name.")

case("bank_withdrawal_shorthand_53", "shorthand", "banking",
     "entry: `large_withdrawal` (amount >= 1000)\n"
     "0h: push 'was this you?'\n"
     "+30m: sms if no `withdrawal_confirmed`",
     ["entry", "channels", "timing", "unless"],
     {"entry": E("large_withdrawal"), "sends": {"send_push": 1, "send_sms": 1},
      "wait_for_event": [WFE("withdrawal_confirmed", "30m")], "edges": ["wait_for_event[timed_out]->send_sms"]})

case("telecom_sim_courier_bullets_54", "bullets", "telecom",
     "SIM activation welcome\n"
     "- trigger: `sim_activated`\n"
     "- welcome SMS right away\n"
     "- send a physical welcome pack by courier\n"
     "- 3 days later, email with the app download link",
     ["entry", "channels", "timing"],
     {"entry": E("sim_activated"), "sends": {"send_sms": 1, "send_email": 1}, "waits": ["3d"],
      "must_flag": ["courier"]})

case("travel_deals_ask_slack_55", "slack", "travel",
     "can we send a last minute deals push and then an email 6h later with the full list? cap push at 3 per week",
     ["entry", "channels", "timing", "caps"],
     {"ask_entry": True, "sends": {"send_push": 1, "send_email": 1}, "waits": ["6h"],
      "cap": {"channel": "push", "max": 3, "window": "7d"}})

case("fitness_membership_sheet_56", "planning-sheet", "health/fitness",
     "Step\tWhen\tChannel\tContent\tNotes\n"
     "1\tT+0\tEmail\tWelcome to the gym\tTrigger = membership_started; T = join date, in days\n"
     "2\tT+1\tSMS\tBook your induction\t\n"
     "3\tT+7\tPush\tFirst-week check-in\tonly if visits_count < 2",
     ["entry", "channels", "timing", "conditions"],
     {"entry": E("membership_started"), "sends": {"send_email": 1, "send_sms": 1, "send_push": 1},
      "waits": ["1d", "6d"], "conditions": [{"attribute": "visits_count", "value": 2}]},
     "T+ values are absolute days from entry: 1 then 7 -> waits 1d and 6d.")

case("ecom_dailydeal_slack_57", "slack", "ecommerce",
     "daily deal: every day at 7pm Sao Paulo time push the deal to the `deal_subscribers` segment. if they havent "
     "opened the app (`app_opened`) within 2h send a whatsapp with the deal",
     ["entry", "channels", "timing", "unless"],
     {"entry": {"type": "scheduled_entry", "cron": "0 19 * * *", "timezone": "America/Sao_Paulo",
                "segment": "deal_subscribers"},
      "sends": {"send_push": 1, "send_whatsapp": 1}, "wait_for_event": [WFE("app_opened", "2h")],
      "edges": ["wait_for_event[timed_out]->send_whatsapp"]})

case("marketplace_driver_docs_ticket_58", "ticket", "marketplace",
     "RIDE-310: Driver licence re-upload\n"
     "Trigger: the compliance service will POST to this journey's webhook URL when a driver's licence scan is "
     "rejected\n"
     "1. Push right away: 're-upload your licence'\n"
     "2. If no `document_uploaded` within 24h -> SMS\n"
     "3. If still nothing after 48 more hours -> email from the ops team",
     ["entry", "channels", "timing", "unless"],
     {"entry": {"type": "webhook_entry"}, "sends": {"send_push": 1, "send_sms": 1, "send_email": 1},
      "wait_for_event": [WFE("document_uploaded", "24h"), WFE("document_uploaded", "48h")],
      "edges": ["wait_for_event[timed_out]->send_sms", "wait_for_event[timed_out]->send_email"]})

case("gaming_unban_webhook_chat_59", "chat", "gaming",
     "Dev: our anti-cheat backend can call a webhook whenever an account gets unbanned\n"
     "Dev: when that happens send them an email explaining the rules, and a push 1 hour after\n"
     "Me: anything else?\n"
     "Dev: nope thats it",
     ["entry", "channels", "timing"],
     {"entry": {"type": "webhook_entry"}, "sends": {"send_email": 1, "send_push": 1}, "waits": ["1h"]})

# ---------------------------------------------------------------- checks
FIELD_FEATURE = {"entry": {"entry"}, "ask_entry": {"entry"}, "sends": {"channels"}, "waits": {"timing"},
                 "wait_for_event": {"timing"}, "wait_until": {"wait_until"}, "conditions": {"conditions"},
                 "edges": {"alternatives", "unless"}, "exit": {"exits"}, "ab": {"ab"}, "cap": {"caps"},
                 "goal": {"goals"}, "must_ask": None, "must_flag": None, "error": None}
FEATURES = {"entry", "channels", "timing", "conditions", "alternatives", "unless", "exits", "wait_until",
            "ab", "caps", "goals"}


def check(c, where):
    ex = c["expect"]
    assert set(c["features"]) <= FEATURES, (where, c["features"])
    covered = set()
    for k in ex:
        assert k in FIELD_FEATURE, (where, k)
        fs = FIELD_FEATURE[k]
        if fs is None:
            continue
        assert fs & set(c["features"]), (where, "field without feature", k)
        covered |= fs & set(c["features"])
    missing = set(c["features"]) - covered
    assert not missing, (where, "feature without field", missing)


if __name__ == "__main__":
    names = set()
    for c in cases:
        assert c["name"] not in names, c["name"]
        names.add(c["name"])
        check(c, c["name"])
    with open(OUT, "w") as f:
        json.dump(cases, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(len(cases), "briefs written")
