package main

// plans lists the test documents: each plan as a marketer would write it,
// with what a reader should find in it.
func plans() []plan {
	return []plan{
		{
			name: "saas_onboarding.csv",
			data: text(csvRows(",",
				row("Acme onboarding journey – Q3", "", "", "", "", ""),
				row("Owner: Dana Whitfield (Lifecycle)", "", "", "", "", "Last updated 2026-06-02"),
				row("Trigger: user signs up", "", "", "", "", ""),
				row("", "", "", "", "", ""),
				row("Step", "Send day", "Channel", "Audience / segment", "Condition", "Subject / message"),
				row("1", "Day 0", "E-mail", "New signups", "", "Welcome to Acme"),
				row("2", "D+3", "SMS/Text", "", "Not opened welcome email", "Reminder: finish setting up your workspace"),
				row("3", "Week 2", "Push", "Customers on the premium plan", "-", "Upgrade offer"),
				row("", "", "", "", "", ""),
				row("4", "Day 21", "Email", "All", "", "Tips from power users"),
				row("", "", "", "", "", ""),
				row("Exit: unsubscribes", "", "", "", "", ""),
				row("Cap: max 2 emails per day", "", "", "", "", ""),
				row("Goal: first project created", "", "", "", "", ""),
			)),
			expect: expect{
				Days:         []int{0, 3, 7, 21},
				Channels:     []string{"email", "sms", "push", "email"},
				Conditions:   1,
				TextContains: []string{"Owner: Dana Whitfield"},
				PromptContains: []string{
					"Start when a user signs up.",
					`On day 0, send an email "Welcome to Acme" to new signups.`,
					`On day 3, if they have not opened welcome email, send an SMS "Reminder: finish setting up your workspace".`,
					`On day 7, send a push notification "Upgrade offer" to customers on the premium plan.`,
					"Stop if they unsubscribe.",
					"No more than 2 emails a day.",
					"Goal: first project created.",
				},
				Journey: journey{ExitCriteria: true},
			},
		},
		{
			name: "cart_abandonment_semicolon.csv",
			data: bom(csvRows(";",
				row("Warenkorb-Abbruch / Cart abandonment – EU shop", "", "", ""),
				row("Trigger: cart abandoned for 1 hour", "", "", ""),
				row("Timing", "Medium", "Segment", "Message"),
				row("+1h", "Email", "Logged-in shoppers", "You left something behind"),
				row("+24h", "Push", "App users", "Your cart is about to expire"),
				row("+48h", "SMS", "Opted-in to SMS", "10% off your cart – today only"),
				row("+72h", "E-mail", "", "Last chance: your cart expires tonight"),
				row("Exit: order placed", "", "", ""),
			)),
			expect: expect{
				Days:     []int{0, 1, 2, 3},
				Channels: []string{"email", "push", "sms", "email"},
				PromptContains: []string{
					"Start when a cart is abandoned for 1 hour.",
					`On day 2, send an SMS "10% off your cart – today only" to opted-in to SMS.`,
					"Stop if an order is placed.",
				},
				Journey: journey{ExitCriteria: true},
			},
		},
		{
			name: "winback_excel_export.csv",
			data: windows1252(csvRows("\t",
				row("Win-back campaign – lapsed customers (90 days)", "", "", ""),
				row("Prepared by: CRM team", "", "", ""),
				row("", "", "", ""),
				row("When", "Type", "Who", "Copy"),
				row("Immediately", "Email", "Lapsed customers", "“We miss you – here’s 15% off”"),
				row("3 days after signup", "Text", "Lapsed customers with a phone number", "Your 15% code expires soon"),
				row("Week 2", "E-mail", "Did not redeem", "New arrivals picked for you"),
				row("Week 4", "WhatsApp", "VIP lapsed customers", "A personal note from our founder"),
				row("", "", "", ""),
				row("Goal: repeat purchase", "", "", ""),
			)),
			expect: expect{
				Days:         []int{0, 3, 7, 21},
				Channels:     []string{"email", "sms", "email", "whatsapp"},
				TextContains: []string{"We miss you – here’s 15% off"},
				PromptContains: []string{
					`On day 0, send an email "We miss you – here’s 15% off" to lapsed customers.`,
					`On day 21, send a WhatsApp message "A personal note from our founder" to VIP lapsed customers.`,
					`On day 7, if they have not redeemed, send an email "New arrivals picked for you".`,
					"Goal: repeat purchase.",
				},
			},
		},
		{
			name: "trial_conversion_delays.csv",
			data: text(csvRows(",",
				row("Trial conversion sequence", "", "", "", ""),
				row("Notes: delays count from the previous message unless stated", "", "", "", ""),
				row("#", "Delay", "Channel", "Condition", "Template"),
				row("1", "0", "Email", "", "trial_welcome_v3"),
				row("2", "2 days", "Email", "", "trial_feature_tour"),
				row("3", "3 days", "Push", "If not upgraded", "trial_halfway_push"),
				row("4", "9 days after signup", "Email", "if not upgraded", "trial_ending_soon"),
				row("5", "4 days", "SMS", "If not upgraded", "trial_expired_sms"),
			)),
			expect: expect{
				Days:       []int{0, 2, 5, 9, 13},
				Channels:   []string{"email", "email", "push", "email", "sms"},
				Conditions: 3,
				PromptContains: []string{
					`Wait 3 days, then if they have not upgraded, send a push notification "trial_halfway_push".`,
					`Wait 4 days, then if they have not upgraded, send an SMS "trial_expired_sms".`,
				},
			},
		},
		{
			name: "webinar_countdown.csv",
			data: text(csvRows(",",
				row("Product webinar countdown – reminders timed from the live session", "", "", ""),
				row("Trigger: user registers for the webinar", "", "", ""),
				row("Timing", "Channel", "Audience", "Message"),
				row("7 days before the webinar", "Email", "Registrants", "See you next week: add it to your calendar"),
				row("1 day before", "Email", "Registrants", "Tomorrow: live product tour"),
				row("1 hour before", "SMS", "Registrants with a phone number", "We start in 1 hour"),
				row("Day of the webinar", "Push", "App users", "We're live now"),
				row("1 day after", "Email", "Attendees", "Recording and slides"),
				row("1 day after", "Email", "No-shows", "Sorry we missed you"),
			)),
			expect: expect{
				Days:     []int{0, 6, 7, 7, 8, 8},
				Channels: []string{"email", "email", "sms", "push", "email", "email"},
				PromptContains: []string{
					`On day 0, send an email "See you next week: add it to your calendar" to registrants.`,
					`On day 7, send an SMS "We start in 1 hour" to registrants with a phone number.`,
					`On day 8, send an email "Sorry we missed you" to no-shows.`,
				},
			},
		},
		{
			name: "webinar_series.xlsx",
			data: xlsx(
				sheet{name: "Read me", rows: [][]any{
					{"Webinar promotion plan – Autumn series"},
					{"Owner", "Priya (Events marketing)"},
					{"Status", "Approved by legal 2026-09-01"},
					{"Budget", "€4,000"},
				}},
				sheet{name: "Sequence", rows: [][]any{
					{"Webinar: Scaling your support team"},
					{"Trigger: user registers for the webinar"},
					{},
					{"Day", "Channel", "Audience", "Subject line", "Notes"},
					{"Day 0", "Email", "Registrants", "You're in! Save the date", "send at 10:00 local"},
					{nil, "SMS", "Registrants with phone", "Thanks for registering", ""},
					{},
					{"Day 6", "Email", "Registrants", "Tomorrow: Scaling your support team", ""},
					{"Day 7", "Push", "App users", "We're live in 15 minutes", "merged row below"},
					{"Day 8", "Email", "Attended", "Slides and recording", ""},
					{nil, "Email", "No-shows", "Sorry we missed you – watch the recording", ""},
				}, merges: []string{"A5:A6", "A10:A11"}},
				sheet{name: "Notes", rows: [][]any{
					{"Speaker bios due 2026-09-15"},
					{"Do not email the EMEA list twice on Day 0"},
				}},
			),
			expect: expect{
				Days:         []int{0, 0, 6, 7, 8, 8},
				Channels:     []string{"email", "sms", "email", "push", "email", "email"},
				TextContains: []string{"Priya (Events marketing)", "Speaker bios due"},
				PromptContains: []string{
					"Start when a user registers for the webinar.",
					`On day 0, send an SMS "Thanks for registering" to registrants with phone.`,
					`On day 8, send an email "Sorry we missed you – watch the recording" to no-shows.`,
				},
			},
		},
		{
			name: "post_purchase.xlsx",
			data: xlsx(
				sheet{name: "Post-purchase", rows: [][]any{
					{"Post-purchase flow (all markets)"},
					{"Entry trigger: order delivered"},
					{"#", "Day / timing", "Channel", "Target segment", "Trigger / rule", "Template", "Subject line"},
					{1, 0, "Email", "All buyers", "", "pp_thanks", "Thanks for your order!"},
					{2, 3, "Email", "All buyers", "", "pp_howto", "Getting the most from your purchase"},
					{3, 7, "Email", "", "Not reviewed", "pp_review", "How did we do?"},
					{4, 14, "Push", "App users", "", "pp_cross_sell", ""},
					{5, 30, "Webhook", "", "", "crm_sync_loyalty", ""},
					{"Total touches: 5"},
				}},
				sheet{name: "Assumptions", rows: [][]any{
					{"Delivery date from the carrier feed"},
					{"Exit: order returned"},
				}},
			),
			expect: expect{
				Days:       []int{0, 3, 7, 14, 30},
				Channels:   []string{"email", "email", "email", "push", "webhook"},
				Conditions: 1,
				PromptContains: []string{
					"Start when an order is delivered.",
					`On day 0, send an email "Thanks for your order!" to all buyers.`,
					`On day 7, if they have not reviewed, send an email "How did we do?".`,
					`On day 14, send a push notification "pp_cross_sell" to app users.`,
					`On day 30, call the webhook "crm_sync_loyalty".`,
					"Stop if an order is returned.",
				},
				Journey: journey{ExitCriteria: true},
			},
		},
		{
			name: "loyalty_reactivation.xlsx",
			data: xlsx(
				sheet{name: "Summary", rows: [][]any{
					{"Loyalty reactivation – Gold & Platinum members"},
					{"Goal: member books a stay within 60 days"},
					{"See the 'Journey' tab for the touch plan."},
				}},
				sheet{name: "Journey", rows: [][]any{
					{"WHEN?", "Message type", "Who gets it", "Copy / asset", "Notes"},
					{"D+0", "e-mail", "Inactive Gold members", "Your points are waiting", ""},
					{"D+5", "WhatsApp", "Inactive Gold members", "Double points this weekend", "needs opt-in"},
					{"", "", "", "", ""},
					{"D+12", "SMS", "Platinum only", "Your suite upgrade is ready", ""},
					{"D+20", "Email", "", "Last call for double points", "only if they did not book"},
				}},
			),
			expect: expect{
				Days:       []int{0, 5, 12, 20},
				Channels:   []string{"email", "whatsapp", "sms", "email"},
				Conditions: 1, // the Notes column's "only if they did not book"
				PromptContains: []string{
					`On day 5, send a WhatsApp message "Double points this weekend" to inactive Gold members.`,
					`On day 12, send an SMS "Your suite upgrade is ready" to platinum only.`,
					"Goal: member books a stay within 60 days.",
				},
			},
		},
		{
			name: "black_friday_calendar.xlsx",
			data: xlsx(
				sheet{name: "BF calendar", rows: [][]any{
					{"Black Friday / Cyber Monday 2026 – send calendar"},
					{"Owner", "E-commerce CRM", "", "", "Status: draft v4"},
					{},
					{"Send date", "Channel", "Segment", "Subject line", "Offer code"},
					{date(2026, 11, 20), "Email", "Newsletter subscribers", "Early access starts Monday", "EARLY20"},
					{date(2026, 11, 23), "Email", "Newsletter subscribers", "You're in: early access is open", "EARLY20"},
					{date(2026, 11, 27), "Email + Push", "All customers", "Black Friday: up to 40% off", "BF40"},
					{date(2026, 11, 28), "SMS", "SMS opt-ins", "Black Friday ends tonight", "BF40"},
					{date(2026, 11, 30), "Email", "Not purchased this week", "Cyber Monday: last chance", "CM30"},
				}},
				sheet{name: "Legal", rows: [][]any{
					{"Offer terms approved 2026-10-30"},
				}},
			),
			expect: expect{
				Days:     []int{0, 3, 7, 7, 8, 10},
				Channels: []string{"email", "email", "email", "push", "sms", "email"},
				PromptContains: []string{
					`On day 7, send a push notification "Black Friday: up to 40% off" to all customers.`,
					`On day 10, if they have not purchased this week, send an email "Cyber Monday: last chance".`,
				},
			},
		},
		{
			name: "sales_followup_notes.docx",
			data: docx(
				p("Sales follow-up after a demo – notes from the planning call"),
				p("Attendees: Sales ops, Lifecycle marketing. Trigger: demo completed"),
				p("Send a thank-you email right after the demo with the recording."),
				p("Send an SMS to prospects with a phone number 2 days later: “Any questions after the demo?”"),
				li("Case study email 5 days after the demo, only if they have not booked a follow-up"),
				li("Webhook to Salesforce on day 14 to create a task for the account executive"),
				p("Open question: do we need a WhatsApp step for LATAM? To decide next week."),
				p("Exit: opportunity closed"),
			),
			expect: expect{
				Days:       []int{0, 2, 5, 14},
				Channels:   []string{"email", "sms", "email", "webhook"},
				Conditions: 1,
				PromptContains: []string{
					"Start when a demo is completed.",
					`On day 2, send an SMS "Any questions after the demo?" to prospects with a phone number.`,
					`On day 5, if they have not booked a follow-up, send an email "Case study".`,
					`On day 14, call the webhook "Salesforce to create a task for the account executive".`,
					"Stop if an opportunity is closed.",
				},
				Journey: journey{ExitCriteria: true},
			},
		},
		{
			name: "product_launch_brief.docx",
			data: docx(
				p("Product launch brief: Acme Insights"),
				p("Owner: Marco Rossi, Product Marketing"),
				p("Launch date: 14 October. This brief covers the customer journey for existing customers."),
				p("Trigger: customer is added to the Launch segment"),
				p("Exit: unsubscribes"),
				tbl(
					row("Day", "Channel", "Audience", "Message"),
					row("Day 0", "Email", "All customers", "Introducing Acme Insights"),
					row("^", "Push", "Mobile app users", "Insights is here"),
					row("Day 2", "Email", "Opened launch email", "See Insights in action (video)"),
					row("Day 5", "SMS", "Admins", "Book your Insights walkthrough"),
				),
				p("Measurement: launch dashboard in Looker."),
				p("Goal: Insights activated"),
			),
			expect: expect{
				Days:         []int{0, 0, 2, 5},
				Channels:     []string{"email", "push", "email", "sms"},
				TextContains: []string{"Launch date: 14 October", "Measurement: launch dashboard"},
				PromptContains: []string{
					"Start when a customer is added to the Launch segment.",
					`On day 0, send a push notification "Insights is here" to mobile app users.`,
					`On day 5, send an SMS "Book your Insights walkthrough" to admins.`,
					`On day 2, if they opened launch email, send an email "See Insights in action (video)".`,
					"Stop if they unsubscribe.",
					"Goal: Insights activated.",
				},
				Journey: journey{ExitCriteria: true},
			},
		},
		{
			name: "onboarding_prose.docx",
			data: docx(
				p("Mobile app onboarding – plan"),
				p("Written by the growth team for the November release. Numbers below are offsets from install."),
				p("Trigger: user installs the app"),
				li("Day 0 – Welcome email: “Welcome to Acme — let’s get you set up”"),
				li("Day 1 – Push notification to users who skipped setup: “Finish setting up in 2 minutes”"),
				li("Day 3 – SMS reminder to non-openers: “Your free trial is running”"),
				li("Day 7 (if they have not completed onboarding): email “Need a hand?”"),
				p("We will review results after four weeks."),
				p("Cap: no more than 1 push per day"),
			),
			expect: expect{
				Days:         []int{0, 1, 3, 7},
				Channels:     []string{"email", "push", "sms", "email"},
				Conditions:   1,
				TextContains: []string{"We will review results after four weeks."},
				PromptContains: []string{
					"Start when a user installs the app.",
					`On day 0, send an email "Welcome to Acme — let’s get you set up".`,
					`On day 3, send an SMS "Your free trial is running" to non-openers.`,
					`On day 7, if they have not completed onboarding, send an email "Need a hand?".`,
					"No more than 1 push notification a day.",
				},
			},
		},
		{
			name: "agency_brief_headings.docx",
			data: docx(
				p("Client: Northwind Coffee – subscription welcome series"),
				p("Prepared by Bright Agency for the Northwind CRM team. Draft for review."),
				p("Trigger: customer starts a coffee subscription"),
				p("Day 0 – Welcome"),
				p("Email: Welcome to the Northwind club"),
				p("Push notification – Track your first delivery"),
				p("Day 4 – Brewing tips"),
				p("The tone here should feel like a barista talking, not a brand."),
				p("Email to customers who have not rated their first bag: How was your first bag?"),
				p("Week 3 – Loyalty"),
				li("WhatsApp: Your loyalty card is ready"),
				p("Exit: subscription cancelled"),
			),
			expect: expect{
				Days:         []int{0, 0, 4, 14},
				Channels:     []string{"email", "push", "email", "whatsapp"},
				TextContains: []string{"barista talking"},
				PromptContains: []string{
					"Start when a customer starts a coffee subscription.",
					`On day 0, send an email "Welcome to the Northwind club".`,
					`On day 0, send a push notification "Track your first delivery".`,
					`On day 4, send an email "How was your first bag?" to customers who have not rated their first bag.`,
					`On day 14, send a WhatsApp message "Your loyalty card is ready".`,
					"Stop if a subscription is cancelled.",
				},
				Journey: journey{ExitCriteria: true},
			},
		},
		{
			name: "event_reminders.docx",
			data: docx(
				p("Customer conference 2026 – attendee communications"),
				tbl(
					row("Version", "Date", "Author"),
					row("0.3", "2026-08-02", "J. Okafor"),
					row("1.0", "2026-08-20", "J. Okafor"),
				),
				p("Trigger: ticket purchased"),
				tbl(
					row("When", "Medium", "Rule", "Content"),
					row("Immediately", "Email", "", "Your ticket and receipt"),
					row("+24h", "WhatsApp", "Opted in to WhatsApp", "Add the agenda to your calendar"),
					row("Day 6", "Email", "", "Know before you go"),
					row("Day 7", "SMS", "Not checked in", "Doors open at 9:00 – show this code"),
				),
				p("Exit: ticket refunded"),
			),
			expect: expect{
				Days:         []int{0, 1, 6, 7},
				Channels:     []string{"email", "whatsapp", "email", "sms"},
				Conditions:   2,
				TextContains: []string{"J. Okafor"},
				PromptContains: []string{
					`On day 1, if they opted in to WhatsApp, send a WhatsApp message "Add the agenda to your calendar".`,
					`On day 7, if not checked in, send an SMS "Doors open at 9:00 – show this code".`,
					"Stop if a ticket is refunded.",
				},
				Journey: journey{ExitCriteria: true},
			},
		},
		{
			name: "referral_program.pdf",
			data: pdfDoc(
				[]string{
					"# Referral programme – customer journey",
					"Owner: Lena Park, Growth. Version 2, September 2026.",
					"Customers who refer a friend earn credit when the friend subscribes.",
					"Trigger: customer joins the referral programme",
					"Steps:",
					"1. Day 0 – Email to new referrers: “Here is your referral link”",
					"2. Day 2 – Push notification to app users: “Share your link, get $20”",
					"3. Day 5 – SMS reminder to non-openers: “Your $20 credit is waiting”",
				},
				[]string{
					"4. Week 2 – Email if no referral yet: “Friends love Acme. Here’s why”",
					"Exit: first referral converts",
					"Goal: referral converted",
				},
			),
			expect: expect{
				Days:         []int{0, 2, 5, 7},
				Channels:     []string{"email", "push", "sms", "email"},
				Conditions:   1,
				TextContains: []string{"Customers who refer a friend earn credit"},
				PromptContains: []string{
					"Start when a customer joins the referral programme.",
					`On day 0, send an email "Here is your referral link" to new referrers.`,
					`On day 7, if no referral yet, send an email "Friends love Acme. Here’s why".`,
					"Stop if first referral converts.",
				},
				Journey: journey{ExitCriteria: true},
			},
		},
		{
			name: "holiday_gift_guide_table.pdf",
			data: pdfDoc([]string{
				"# Holiday gift guide – email & push plan",
				"Exported from the campaign calendar. Owner: Seasonal team.",
				"Trigger: customer joins the holiday list",
				"Send day\tChannel\tSegment\tSubject",
				"Day 0\tEmail\tHoliday list\tOur 2026 gift guide",
				"Day 3\tPush\t\tGifts under $25",
				"Day 6\tEmail\tNot opened\tLast order dates",
				"Day 10\tSMS\tSMS opt-ins\tFree shipping ends",
				"Numbers are subject to change after the November review.",
			}),
			expect: expect{
				Days:         []int{0, 3, 6, 10},
				Channels:     []string{"email", "push", "email", "sms"},
				TextContains: []string{"Exported from the campaign calendar."},
				PromptContains: []string{
					"Start when a customer joins the holiday list.",
					`On day 3, send a push notification "Gifts under $25".`,
					`On day 6, if they have not opened, send an email "Last order dates".`,
					`On day 10, send an SMS "Free shipping ends" to SMS opt-ins.`,
				},
			},
		},
		{
			name: "renewal_reminders.pdf",
			data: pdfDoc([]string{
				"# Subscription renewal reminders",
				"Audience: annual subscribers 30 days before renewal.",
				"Entry: subscription enters the renewal window",
				"Step 1: Day 0 – Email: Your renewal is coming up",
				"Step 2: Day 7 – Email to customers who have not updated their card: Update your payment details",
				"Step 3: Day 14 – SMS: Your subscription renews in 2 weeks",
				"Step 4: Day 28 – Webhook: notify account manager",
				"Stop: subscription cancelled",
				"Frequency cap: max 1 SMS per week",
			}),
			expect: expect{
				Days:     []int{0, 7, 14, 28},
				Channels: []string{"email", "email", "sms", "webhook"},
				PromptContains: []string{
					"Start when subscription enters the renewal window.",
					`On day 0, send an email "Your renewal is coming up".`,
					`On day 14, send an SMS "Your subscription renews in 2 weeks".`,
					`On day 28, call the webhook "notify account manager".`,
					"Stop if a subscription is cancelled.",
					"No more than 1 SMS a week.",
				},
				Journey: journey{ExitCriteria: true},
			},
		},
		{
			name: "newsletter_nurture.md",
			data: text(`# Lead nurture – content downloads

Owner: content marketing. Trigger: lead downloads a whitepaper

| Step | When | Channel | Segment | Subject |
|------|------|---------|---------|---------|
| 1 | Immediately | Email | Whitepaper leads | Your copy of the 2026 benchmark report |
| 2 | 3 days later | Email | Whitepaper leads | 3 takeaways from the report |
| 3 | 4 days later | Email | Clicked report | Book a 20-minute demo |
| 4 | Week 3 | Email | | Customer story: how Globex cut churn |

Exit: lead books a demo
`),
			expect: expect{
				Days:     []int{0, 3, 7, 14},
				Channels: []string{"email", "email", "email", "email"},
				PromptContains: []string{
					"Start when a lead downloads a whitepaper.",
					`On day 7, if they clicked report, send an email "Book a 20-minute demo".`,
					"Stop if they book a demo.",
				},
				Journey: journey{ExitCriteria: true},
			},
		},
		{
			name: "brand_strategy.txt",
			data: text(`Brand refresh – communication principles

We are moving to a warmer, plainer tone across every channel.
Email subject lines stay under 45 characters; SMS is for service messages only.
Every message must carry the new logo from 1 October.
Questions to Sam in brand.
`),
			expect: expect{
				Days:         []int{},
				Channels:     []string{},
				TextContains: []string{"warmer, plainer tone"},
			},
		},
	}
}
