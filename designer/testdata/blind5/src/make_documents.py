#!/usr/bin/env python3
"""Writes ../documents/* (blind set 5): the plan files and their <name>.expect.json.

PDFs are made from DOCX sources (src/pdf_sources/) with LibreOffice:
    soffice --headless --convert-to pdf --outdir documents src/pdf_sources/<name>.docx
Run: python3 src/make_documents.py   (from designer/testdata/blind5)
"""
import csv, json, os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from ooxml import write_docx, write_xlsx  # noqa: E402
from make_briefs import check  # noqa: E402

DOCS = os.path.join(HERE, "..", "documents")
PDFSRC = os.path.join(HERE, "pdf_sources")
os.makedirs(DOCS, exist_ok=True)
os.makedirs(PDFSRC, exist_ok=True)

WU = lambda attr, off=None: ({"until": "customer." + attr, "offset": off} if off else {"until": "customer." + attr})


def expect(name, style, industry, features, exp, note=None):
    c = {"name": name, "style": style, "industry": industry, "features": features, "expect": exp}
    if note:
        c["note"] = note
    check(c, name)
    with open(os.path.join(DOCS, name + ".expect.json"), "w") as f:
        json.dump(c, f, indent=2, ensure_ascii=False)
        f.write("\n")


def write_csv(name, rows):
    with open(os.path.join(DOCS, name + ".csv"), "w", newline="") as f:
        csv.writer(f).writerows(rows)


# 1. CSV, absolute day column, condition, exit --------------------------------------------------
write_csv("ecom_welcome_plan", [
    ["Welcome series - webshop (owner: CRM team)"],
    ["Trigger: account_created event"],
    [],
    ["Step", "Day", "Channel", "Message", "Send rule"],
    ["1", "0", "Email", "Welcome + brand story", "all"],
    ["2", "2", "Push", "Complete your profile", "all"],
    ["3", "5", "Email", "First order 10% off", "all"],
    ["4", "9", "SMS", "Last chance on your 10%", "only if orders_count = 0"],
    [],
    ["Exit: anyone who places their first order (first_order_placed) leaves the series"],
    ["Day = days since the account was created"],
])
expect("ecom_welcome_plan", "planning-sheet", "ecommerce",
       ["entry", "channels", "timing", "conditions", "exits"],
       {"entry": {"type": "event_entry", "event_type": "account_created"},
        "sends": {"send_email": 2, "send_push": 1, "send_sms": 1}, "waits": ["2d", "3d", "4d"],
        "conditions": [{"attribute": "orders_count", "value": 0}],
        "exit": {"event_type": "first_order_placed"}},
       "Absolute days 0/2/5/9 -> waits 2d, 3d, 4d.")

# 2. CSV, Variant + Share columns, cap, exit ----------------------------------------------------
write_csv("retail_tier_upgrade", [
    ["Loyalty: tier upgrade journey"],
    ["Entry", "tier_upgraded (event)"],
    ["Exit", "membership_cancelled (event)"],
    ["Frequency cap", "max 2 push per 7 days"],
    [],
    ["Send on day", "Channel", "Variant", "Share", "Message"],
    ["0", "Email", "", "", "Welcome to your new tier"],
    ["2", "Push", "", "", "Your new perks"],
    ["6", "SMS", "A", "60%", "Double-points weekend"],
    ["6", "WhatsApp", "B", "40%", "Double-points weekend"],
    [],
    ["(days counted from the upgrade; A and B go out at the same time)"],
])
expect("retail_tier_upgrade", "planning-sheet", "retail loyalty",
       ["entry", "channels", "timing", "ab", "caps", "exits"],
       {"entry": {"type": "event_entry", "event_type": "tier_upgraded"},
        "sends": {"send_email": 1, "send_push": 1, "send_sms": 1, "send_whatsapp": 1},
        "waits": ["2d", "4d"], "ab": [[60, 40]], "cap": {"channel": "push", "max": 2, "window": "7d"},
        "exit": {"event_type": "membership_cancelled"}},
       "Day 2 -> day 6 is a 4d wait before the 60/40 split.")

# 3. XLSX, relative waits, Variant/Share, cap, goal ---------------------------------------------
write_xlsx(os.path.join(DOCS, "saas_trial_sheet.xlsx"), [
    ["Journey: Trial conversion (Q1)"],
    ["Trigger:", "Users who join the segment `trial_users`"],
    ["Cap:", "max 2 emails per customer per day"],
    [],
    ["Channel", "Wait after previous step", "Variant", "Share", "Content"],
    ["Email", "-", "All", "100%", "Welcome + setup checklist"],
    ["Email", "2 days", "All", "100%", "Use-case guide"],
    ["Push", "3 days", "A", "50%", "Upgrade offer (push)"],
    ["SMS", "3 days", "B", "50%", "Upgrade offer (SMS)"],
    [],
    ["Goal:", "converted = `subscription_started` within 4 days of the upgrade offer"],
    ["Notes:", "A and B go out at the same moment: the split happens 3 days after the use-case guide."],
], sheet_name="Trial plan")
expect("saas_trial_sheet", "planning-sheet", "saas",
       ["entry", "channels", "timing", "ab", "caps", "goals"],
       {"entry": {"type": "segment_entry", "segment": "trial_users"},
        "sends": {"send_email": 2, "send_push": 1, "send_sms": 1}, "waits": ["2d", "3d"],
        "ab": [[50, 50]], "cap": {"channel": "email", "max": 2, "window": "1d"},
        "goal": {"goal_name": "converted", "event_type": "subscription_started"}},
       "wait_for_event not given: the goal wait may be one per variant.")

# 4. XLSX, wait_until relative to a date attribute, otherwise-branch, exit ----------------------
write_xlsx(os.path.join(DOCS, "b2b_event_followup.xlsx"), [
    ["Event: Partner Summit 2027 - attendee comms"],
    ["Entry", "event `summit_registered`"],
    ["Exit", "`registration_cancelled`"],
    [],
    ["When", "Relative to", "Channel", "Rule", "Content"],
    ["on registration", "-", "Email", "-", "Confirmation + calendar invite"],
    ["1 day before", "event_date", "Email", "-", "Agenda + venue"],
    ["2 hours before", "event_date", "SMS", "-", "Doors open soon"],
    ["1 day after", "event_date", "Email", "if attendance_status = no_show", "Recording link"],
    ["1 day after", "event_date", "Email", "otherwise", "Slides + book a meeting"],
], sheet_name="Comms")
expect("b2b_event_followup", "planning-sheet", "b2b",
       ["entry", "channels", "wait_until", "conditions", "alternatives", "exits"],
       {"entry": {"type": "event_entry", "event_type": "summit_registered"},
        "sends": {"send_email": 4, "send_sms": 1},
        "wait_until": [WU("event_date", "-1d"), WU("event_date", "-2h"), WU("event_date", "1d")],
        "conditions": [{"attribute": "attendance_status", "value": "no_show"}],
        "edges": ["condition[true]->send_email", "condition[false]->send_email"],
        "exit": {"event_type": "registration_cancelled"}})

# 5. DOCX, wait_until before renewal_date, condition with otherwise, exit, cap ------------------
write_docx(os.path.join(DOCS, "insurance_renewal_plan.docx"), [
    ("h", "Motor insurance - renewal reminders 2027"),
    ("p", "Prepared for: Retention team. Version 3, reviewed by Compliance."),
    ("b", "Entry"),
    ("p", "Customers enter when they join the segment `renewals_q1`."),
    ("b", "Contact plan"),
    ("table", [
        ["Timing", "Channel", "Message", "Rule"],
        ["45 days before renewal_date", "Email", "Your renewal is coming up", "-"],
        ["14 days before renewal_date", "Email", "Your renewal price", "-"],
        ["3 days before renewal_date", "SMS", "Check your card details", "if payment_method is card"],
        ["3 days before renewal_date", "Email", "Your policy renews soon", "otherwise"],
    ]),
    ("p", "Exit: as soon as we receive `policy_renewed` the customer leaves the journey."),
    ("p", "Frequency: no more than 2 SMS per customer in any 7 days."),
])
expect("insurance_renewal_plan", "document", "insurance",
       ["entry", "channels", "wait_until", "conditions", "alternatives", "exits", "caps"],
       {"entry": {"type": "segment_entry", "segment": "renewals_q1"},
        "sends": {"send_email": 3, "send_sms": 1},
        "wait_until": [WU("renewal_date", "-45d"), WU("renewal_date", "-14d"), WU("renewal_date", "-3d")],
        "conditions": [{"attribute": "payment_method", "value": "card"}],
        "edges": ["condition[true]->send_sms", "condition[false]->send_email"],
        "exit": {"event_type": "policy_renewed"}, "cap": {"channel": "sms", "max": 2, "window": "7d"}})

# 6. DOCX, no trigger (ask), a step no node can do (must_flag) ----------------------------------
write_docx(os.path.join(DOCS, "health_clinic_onboarding.docx"), [
    ("h", "New patient onboarding - draft"),
    ("p", "Trigger: TBD (waiting on the practice-management team to tell us what we can listen to)."),
    ("table", [
        ["Day", "Touchpoint", "Details"],
        ["0", "Email", "Welcome to the clinic, what to bring"],
        ["1", "SMS", "Complete your health questionnaire (link)"],
        ["1", "Post", "Printed welcome booklet mailed to the home address"],
        ["14", "Email", "How are you getting on? + rebook link"],
    ]),
    ("p", "Day 0 = the day the patient enters the journey."),
])
expect("health_clinic_onboarding", "document", "health",
       ["entry", "channels", "timing"],
       {"ask_entry": True, "sends": {"send_email": 2, "send_sms": 1}, "waits": ["1d", "13d"],
        "must_flag": ["welcome booklet"]},
       "Trigger is TBD; the mailed booklet has no node type.")

# 7. PDF (from DOCX), absolute days, unless, goal, exit -----------------------------------------
write_docx(os.path.join(PDFSRC, "fintech_onboarding_brief.docx"), [
    ("h", "Neobank onboarding - campaign brief"),
    ("p", "Objective: get newly opened accounts funded in their first week."),
    ("b", "Trigger"),
    ("p", "The `account_opened` event."),
    ("b", "Messages"),
    ("table", [
        ["Day", "Channel", "Message", "Send if"],
        ["Day 0", "Email", "Welcome pack", "always"],
        ["Day 3", "Push", "Set up your savings pot", "always"],
        ["Day 7", "SMS", "Add money to get your \u00a320 bonus",
         "only if no `first_deposit` has arrived since the push"],
    ]),
    ("p", "Days are counted from account opening."),
    ("p", "Goal: funded - the customer makes their `first_deposit`."),
    ("p", "Exit: `account_closed` removes the customer from the journey."),
])
expect("fintech_onboarding_brief", "document", "fintech",
       ["entry", "channels", "timing", "unless", "goals", "exits"],
       {"entry": {"type": "event_entry", "event_type": "account_opened"},
        "sends": {"send_email": 1, "send_push": 1, "send_sms": 1}, "waits": ["3d"],
        "wait_for_event": [{"event_type": "first_deposit", "timeout": "4d"}],
        "edges": ["wait_for_event[timed_out]->send_sms"],
        "goal": {"goal_name": "funded", "event_type": "first_deposit"},
        "exit": {"event_type": "account_closed"}},
       "Day 3 -> Day 7 is the 4d window for first_deposit; the goal is on its event_received branch.")

# 8. PDF (from DOCX), wait_until before departure, equal 3-way split with control, cap, exit ------
write_docx(os.path.join(PDFSRC, "travel_campaign_plan.docx"), [
    ("h", "Summer trips - pre-departure plan"),
    ("p", "Entry: `trip_booked` event. Exit: `trip_cancelled`."),
    ("p", "Push cap: max 1 push per customer per day."),
    ("table", [
        ["#", "Wait before this step", "Channel", "Variant", "Content"],
        ["1", "none (on booking)", "Email", "all", "Booking confirmation"],
        ["2", "until 14 days before departure_date", "SMS", "all", "Trip countdown"],
        ["3", "until 3 days before departure_date", "Email", "A (1/3)", "Car hire offer"],
        ["3", "(same time)", "Push", "B (1/3)", "Car hire offer"],
        ["3", "(same time)", "-", "C (1/3) control", "nothing sent"],
    ]),
    ("p", "Step 3 is an equal three-way split."),
])
expect("travel_campaign_plan", "document", "travel",
       ["entry", "channels", "wait_until", "ab", "exits", "caps"],
       {"entry": {"type": "event_entry", "event_type": "trip_booked"},
        "sends": {"send_email": 2, "send_sms": 1, "send_push": 1},
        "wait_until": [WU("departure_date", "-14d"), WU("departure_date", "-3d")],
        "ab": ["equal:3"], "exit": {"event_type": "trip_cancelled"},
        "cap": {"channel": "push", "max": 1, "window": "1d"}})

# 9. MD, scheduled entry with time zone, condition/otherwise, goal -------------------------------
with open(os.path.join(DOCS, "streaming_winback.md"), "w") as f:
    f.write("""# Win-back: churn risk (Sunday send)

**Entry:** scheduled - every Sunday at 18:00, Madrid time, for the `churn_risk` segment.
**Goal:** won back = `subscription_reactivated` within 7 days of the last message.

| Wait | Channel | Condition | Message |
|---|---|---|---|
| - | Email | - | We miss you |
| 3 days | Push | favourite_genre is drama | New drama picks |
| 3 days | Email | otherwise | Top 10 this week |

Rows 2 and 3 are the same step: after 3 days, drama fans get the push and everyone else the email.
""")
expect("streaming_winback", "document", "media",
       ["entry", "channels", "timing", "conditions", "alternatives", "goals"],
       {"entry": {"type": "scheduled_entry", "cron": "0 18 * * 0", "timezone": "Europe/Madrid",
                  "segment": "churn_risk"},
        "sends": {"send_email": 2, "send_push": 1}, "waits": ["3d"],
        "conditions": [{"attribute": "favourite_genre", "value": "drama"}],
        "edges": ["condition[true]->send_push", "condition[false]->send_email"],
        "goal": {"event_type": "subscription_reactivated"}})

# 10. TXT, webhook entry, relative delays, unless, exit, cap ------------------------------------
with open(os.path.join(DOCS, "utilities_overdue_plan.txt"), "w") as f:
    f.write("""OVERDUE BILL FOLLOW-UP  (billing ops, v2)
==========================================
Trigger : webhook from the billing system (fires when a bill goes 10 days overdue)
Exit    : customer sets up a payment plan -> event payment_plan_created
Cap     : whatsapp, max 1 per 7 days

Step  Delay                  Channel    Note
----  ---------------------  ---------  -----------------------------------------
1     on trigger             SMS        overdue notice + pay link
2     3d after step 1        Email      payment options
3     up to 5d after step 2  WhatsApp   final notice, only if payment_received
                                        has not come in by then

Notes: step 3 is skipped for anyone who pays in that window.
""")
expect("utilities_overdue_plan", "document", "utilities",
       ["entry", "channels", "timing", "unless", "exits", "caps"],
       {"entry": {"type": "webhook_entry"},
        "sends": {"send_sms": 1, "send_email": 1, "send_whatsapp": 1}, "waits": ["3d"],
        "wait_for_event": [{"event_type": "payment_received", "timeout": "5d"}],
        "edges": ["wait_for_event[timed_out]->send_whatsapp"],
        "exit": {"event_type": "payment_plan_created"},
        "cap": {"channel": "whatsapp", "max": 1, "window": "7d"}})

# PDFs ------------------------------------------------------------------------------------------
for src in ("fintech_onboarding_brief.docx", "travel_campaign_plan.docx"):
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", DOCS,
                    os.path.join(PDFSRC, src)], check=True, stdout=subprocess.DEVNULL)
print("documents written")
