package eval_test

import (
	"context"
	"fmt"
	"os"

	"github.com/aisle-rec/aisle/hub/eval"
)

// Evaluating the baselines on session data: load and split, build the
// cases, fit and score each system, print one as JSON.
func Example() {
	sp, err := eval.LoadDiginetica("testdata/diginetica.csv", 5)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sp.Stats.TrainSessions, "train sessions,", sp.Stats.TestSessions, "test sessions,", sp.Stats.Items, "items")
	cases, skipped := sp.Cases()
	results, err := eval.Run(context.Background(), sp.Train, eval.Baselines(), cases, false, eval.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(cases), "cases,", skipped, "skipped")
	// eval.WriteTable(os.Stdout, eval.DatasetDiginetica, results, eval.PublishedResults(eval.DatasetDiginetica))
	// prints the comparison table; its timings vary, so this example shows JSON.
	eval.WriteJSON(os.Stdout, results[1]) // LastItemTransition ranks every target first here
	// Output:
	// 6 train sessions, 3 test sessions, 4 items
	// 4 cases, 0 skipped
	// {"hr@20":1,"mrr@20":1,"ndcg@10":1,"ndcg@20":1,"ndcg@5":1,"recall@10":1,"recall@20":1,"recall@5":1}
}
