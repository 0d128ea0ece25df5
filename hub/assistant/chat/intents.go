package chat

import (
	"bytes"
	_ "embed"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/aisle-rec/aisle/hub/assistant/intent"
	"github.com/aisle-rec/aisle/hub/catalog"
)

// The shopping intents the assistant adds to the service intents of its
// default training set.
const (
	IntentProductQuestion   = "product_question"
	IntentProductSearch     = "product_search"
	IntentProductComparison = "product_comparison"
	IntentGreeting          = "greeting"
)

// Service intents of the default training set that change what the
// assistant does beyond answering from the FAQ.
const (
	intentContactHuman    = "contact_human_agent"
	intentContactService  = "contact_customer_service"
	intentComplaint       = "complaint"
	intentTrackOrder      = "track_order"
	intentCancelOrder     = "cancel_order"
	intentChangeOrder     = "change_order"
	intentTrackRefund     = "track_refund"
	intentGetRefund       = "get_refund"
	intentDeleteAccount   = "delete_account"
	intentPaymentIssue    = "payment_issue"
	intentRecoverPassword = "recover_password"
)

//go:embed data/bitext.csv
var bitextCSV []byte

//go:embed data/shopping.csv
var shoppingCSV []byte

// intentTopics are words added to a FAQ search for a service intent, so
// "where is my parcel?" finds the delivery section even when it shares no
// word with the message.
var intentTopics = map[string]string{
	"cancel_order":             "cancel order cancellation",
	"change_order":             "change order amend",
	"change_shipping_address":  "change delivery address shipping",
	"check_cancellation_fee":   "cancellation fee cancel charge",
	"check_invoice":            "invoice receipt",
	"check_payment_methods":    "payment methods pay card",
	"check_refund_policy":      "refund policy return money back",
	"complaint":                "complaint contact",
	"contact_customer_service": "contact customer service hours email phone",
	"contact_human_agent":      "contact customer service human",
	"create_account":           "create account register sign up",
	"delete_account":           "delete account close data",
	"delivery_options":         "delivery options shipping",
	"delivery_period":          "delivery time days shipping arrive",
	"edit_account":             "account details edit change",
	"get_invoice":              "invoice receipt",
	"get_refund":               "refund return money back",
	"newsletter_subscription":  "newsletter subscribe email unsubscribe",
	"payment_issue":            "payment problem card declined",
	"place_order":              "order place checkout",
	"recover_password":         "password reset forgot account",
	"registration_problems":    "account register sign up problem",
	"review":                   "review feedback",
	"set_up_shipping_address":  "delivery address shipping",
	"switch_account":           "account switch",
	"track_order":              "track order delivery status dispatch",
	"track_refund":             "refund status track return",
}

// fallbackThings fill the shopping templates when a shop has no catalog yet.
var fallbackThings = []string{"headphones", "running shoes", "jigsaw puzzle", "board game", "lego set", "teddy bear",
	"kettle", "backpack", "doll house", "train set", "water bottle", "phone case", "desk lamp", "scooter", "paint set"}

// DefaultExamples returns the assistant's training examples for a shop:
// the bundled service examples, and the shopping templates filled with the
// shop's own product titles, categories and brands, so "do you have
// {thing}" is learned with the words the shop's visitors will use.
func DefaultExamples(products []catalog.Product) ([]intent.Example, error) {
	ex, err := intent.ReadBitext(bytes.NewReader(bitextCSV))
	if err != nil {
		return nil, err
	}
	tmpl, err := intent.ReadBitext(bytes.NewReader(shoppingCSV))
	if err != nil {
		return nil, err
	}
	things := catalogThings(products)
	rng := rand.New(rand.NewPCG(7, uint64(len(products))))
	pick := func() string { return things[rng.IntN(len(things))] }
	for _, t := range tmpl {
		if !strings.Contains(t.Text, "{") {
			ex = append(ex, t, t) // no slot: weigh like a filled template
			continue
		}
		for range 4 {
			s := strings.ReplaceAll(t.Text, "{thing}", pick())
			s = strings.ReplaceAll(s, "{other}", pick())
			ex = append(ex, intent.Example{Text: s, Label: t.Label})
		}
	}
	return ex, nil
}

// catalogThings lists short names of what a shop sells: category leaves,
// brands and the first words of titles.
func catalogThings(products []catalog.Product) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		s = strings.ToLower(strings.Join(strings.Fields(s), " "))
		if s == "" || len(s) > 60 || seen[s] {
			return
		}
		seen[s] = true
		out = append(out, s)
	}
	for _, p := range products {
		if n := len(p.Category); n > 0 {
			add(p.Category[n-1])
		}
		if w := strings.Fields(p.Title); len(w) > 0 {
			add(strings.Join(w[:min(len(w), 3)], " "))
		}
		add(p.Brand)
	}
	if len(out) < 5 {
		out = append(out, fallbackThings...)
	}
	slices.Sort(out)
	return out
}
