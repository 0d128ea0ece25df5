package chat

import (
	"fmt"
	"testing"

	"github.com/aisle-rec/aisle/hub/catalog"
)

func TestEvaluateQA(t *testing.T) {
	// Each product is asked about batteries, then its size, then its
	// batteries again: the third answer is best taken from the first.
	var pairs []catalog.QA
	for i := range 30 {
		item := fmt.Sprintf("p%d", i)
		pairs = append(pairs,
			catalog.QA{ID: item + "a", Item: item, Question: "Does it need batteries?", Answer: fmt.Sprintf("Yes, it takes %d AA batteries.", 2+i%3), Date: "2020-01-01"},
			catalog.QA{ID: item + "b", Item: item, Question: "How big is it?", Answer: "About 30 by 20 centimetres, fits on a shelf.", Date: "2020-02-01"},
			catalog.QA{ID: item + "c", Item: item, Question: "Which batteries does it need?", Answer: fmt.Sprintf("It takes %d AA batteries.", 2+i%3), Date: "2020-03-01"},
		)
	}
	r := EvaluateQA(pairs)
	if r.Products != 30 || r.Questions != 60 {
		t.Fatalf("%d products, %d questions", r.Products, r.Questions)
	}
	// The size question shares no word with the battery one: not answered.
	if r.Answered != 30 || r.Aisle.RougeL <= r.Recent.RougeL || r.Aisle.RougeL < 80 || r.Oracle.RougeL < r.Aisle.RougeL {
		t.Fatalf("%+v", r)
	}
}
