package dashboard

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aisle-rec/aisle/shared/snapshot"
)

// palette colours clusters by number, cycling after 20 (Tableau 10, then
// darker and lighter companions).
var palette = []string{
	"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
	"#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
	"#1f3f6e", "#a65c00", "#8c1d24", "#2f7d78", "#2a6b22",
	"#a88a00", "#6b3f63", "#d4587a", "#5c4033", "#6e6e6e",
}

const mapW, mapH, mapPad = 900.0, 560.0, 24.0

type svgMap struct {
	W, H    float64
	Points  []svgPoint
	Labels  []svgLabel
	Legend  []legendRow
	Sampled int
	Total   int
}

type svgPoint struct {
	X, Y float64
	Fill string
}

type svgLabel struct {
	X, Y float64
	Text string
}

type legendRow struct {
	Fill  string
	Label string
	Items int
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// sample returns at most max item numbers out of n, spread evenly and
// always the same for the same n.
func sample(n, max int) []int {
	k := min(n, max)
	out := make([]int, k)
	for i := range k {
		out[i] = int(int64(i) * int64(n) / int64(k))
	}
	return out
}

// drawMap projects a sample of the snapshot's item vectors onto their first
// two principal components and lays them out for the SVG.
func drawMap(s *snapshot.Snapshot) *svgMap {
	n, d := s.Len(), s.Dims
	m := &svgMap{W: mapW, H: mapH, Total: n}
	if n == 0 || d == 0 || len(s.Vectors) < n*d || len(s.Scales) < n {
		return m
	}
	idx := sample(n, MaxPoints)
	m.Sampled = len(idx)
	x := make([]float64, len(idx)*d)
	for r, i := range idx {
		sc := float64(s.Scales[i])
		for j, q := range s.Vectors[i*d : (i+1)*d] {
			x[r*d+j] = float64(q) * sc
		}
	}
	// Fit on at most 1000 of the sampled rows: the axes barely move with
	// more and the page stays fast.
	fitRows := sample(len(idx), 1000)
	fx := make([]float64, 0, len(fitRows)*d)
	for _, r := range fitRows {
		fx = append(fx, x[r*d:(r+1)*d]...)
	}
	p := Fit(fx, d)
	px, py := make([]float64, len(idx)), make([]float64, len(idx))
	for r := range idx {
		px[r], py[r] = p.Project(x[r*d : (r+1)*d])
	}
	// Frame the 1st to 99th percentile (plus a margin) so a few outliers
	// do not squeeze everything else into a corner; they sit on the border.
	minX, maxX := frame(px)
	minY, maxY := frame(py)
	sx := (mapW - 2*mapPad) / math.Max(maxX-minX, 1e-9)
	sy := (mapH - 2*mapPad) / math.Max(maxY-minY, 1e-9)
	toX := func(v float64) float64 { return round1(mapPad + (math.Max(minX, math.Min(maxX, v))-minX)*sx) }
	// SVG y grows downwards; flip so the second axis points up.
	toY := func(v float64) float64 { return round1(mapH - mapPad - (math.Max(minY, math.Min(maxY, v))-minY)*sy) }
	colour := func(c int) string { return palette[c%len(palette)] }
	k := s.Clusters()
	sizes := make([]int, k)
	for _, c := range s.Items.Cluster {
		if int(c) < k {
			sizes[c]++
		}
	}
	m.Points = make([]svgPoint, len(idx))
	for r, i := range idx {
		c := 0
		if i < len(s.Items.Cluster) {
			c = int(s.Items.Cluster[i])
		}
		m.Points[r] = svgPoint{X: toX(px[r]), Y: toY(py[r]), Fill: colour(c)}
	}
	for c := range k {
		label := ""
		if c < len(s.ClusterLabels) {
			label = s.ClusterLabels[c]
		}
		if strings.TrimSpace(label) == "" {
			label = fmt.Sprintf("cluster %d", c)
		}
		cx, cy := p.Project(float64s(s.Centroids[c*d : (c+1)*d]))
		// Keep the (centred) label inside the picture: about 7 px a
		// character at the label's font size.
		half := math.Min(float64(utf8.RuneCountInString(label))*3.6, mapW/2-mapPad)
		lx := math.Max(mapPad+half, math.Min(mapW-mapPad-half, toX(cx)))
		ly := math.Max(mapPad, math.Min(mapH-mapPad/2, toY(cy)))
		m.Labels = append(m.Labels, svgLabel{X: round1(lx), Y: round1(ly), Text: label})
		m.Legend = append(m.Legend, legendRow{Fill: colour(c), Label: label, Items: sizes[c]})
	}
	return m
}

// frame returns the range of v from its 1st to its 99th percentile,
// widened by 4% on each side.
func frame(v []float64) (lo, hi float64) {
	s := slices.Clone(v)
	slices.Sort(s)
	lo, hi = s[len(s)/100], s[len(s)-1-len(s)/100]
	m := (hi - lo) * 0.04
	return lo - m, hi + m
}

func float64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// css is the page's only stylesheet; the CSP allows it by its hash.
const css = `body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1000px;padding:0 1rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #ddd;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;min-width:7rem}
.card b{display:block;font-size:1.4rem}.muted{color:#666}
svg.map{width:100%;height:auto;border:1px solid #ddd;border-radius:6px;background:#fcfcfc}
svg.map text{font-size:12px;font-weight:600;paint-order:stroke;stroke:#fff;stroke-width:3px;text-anchor:middle}
ul.legend{list-style:none;padding:0;columns:3}ul.legend li{margin:.15rem 0}
code{background:#f4f4f4;padding:0 .2rem}
svg.bars{width:100%;height:auto;margin:.5rem 0}svg.bars text{font-size:13px;fill:#333}svg.bars text.label{text-anchor:end}
h3{font-size:1rem}`

var csp = "default-src 'none'; style-src 'sha256-" + func() string {
	h := sha256.Sum256([]byte(css))
	return base64.StdEncoding.EncodeToString(h[:])
}() + "'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const pageSrc = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Aisle dashboard: {{.Shop}}</title>
<style>@@CSS@@</style></head>
<body>
<h1>Aisle dashboard: {{.Shop}}</h1>
<h2>Data</h2>
<div class="cards">
<div class="card" id="products"><b>{{.Counts.Products}}</b>products</div>
<div class="card" id="reviews"><b>{{.Counts.Reviews}}</b>reviews</div>
<div class="card" id="qa"><b>{{.Counts.QA}}</b>product questions</div>
<div class="card" id="faq"><b>{{.Counts.FAQ}}</b>FAQ entries</div>
<div class="card" id="events"><b>{{.Counts.Events}}</b>events</div>
<div class="card" id="sessions"><b>{{.Counts.Sessions}}</b>sessions</div>
</div>
<h2>Snapshots</h2>
<table><thead><tr><th>region</th><th>version</th><th class="n">size</th><th class="n">bytes/item</th><th class="n">items</th><th class="n">clusters</th><th class="n">segments</th><th>built</th></tr></thead><tbody>
{{range .Regions}}<tr class="region"><td>{{.Region}}</td>{{if .Problem}}<td colspan="7" class="muted">{{.Problem}}</td>{{else}}<td><code>{{.Version}}</code></td><td class="n">{{bytes .Size}}</td><td class="n">{{.PerItem}}</td><td class="n">{{.Items}}</td><td class="n">{{.Clusters}}</td><td class="n">{{.Segments}}</td><td>{{.Built}}</td>{{end}}</tr>
{{end}}</tbody></table>
<h2 id="quality">Recommendation quality on your own sessions</h2>
{{with .Eval}}{{if .Systems}}
<p class="muted">Measured when the index was built ({{.When}}, region {{.Region}}): {{.Protocol}}. {{.Cases}} held-out events{{if .Skipped}}, {{.Skipped}} skipped (item unknown in the region){{end}}; the snapshot scored was built by the same pipeline from the other {{.Sessions}} sessions' events.</p>
<table class="eval"><thead><tr><th>system</th><th class="n">recall@10</th><th class="n">NDCG@10</th><th class="n">recall@20</th><th class="n">MRR@20</th></tr></thead><tbody>
{{range .Systems}}<tr class="system"><td>{{.System}}</td><td class="n">{{printf "%.4f" .Recall10}}</td><td class="n">{{printf "%.4f" .NDCG10}}</td><td class="n">{{printf "%.4f" .Recall20}}</td><td class="n">{{printf "%.4f" .MRR20}}</td></tr>
{{end}}</tbody></table>
{{template "bars" .Chart}}
<p class="muted">recall@10: how often the visitor's next item was among the ten shown; NDCG@10 also rewards placing it near the top.</p>
{{else}}<p class="muted" id="no-eval">{{.Note}}</p>{{end}}
{{else}}<p class="muted" id="no-eval">No evaluation yet: it runs with every build (aisle build -db …) once past events are ingested.</p>{{end}}
{{with .Edges}}
<h2 id="edges">Edges</h2>
{{if .Rows}}
<table><thead><tr><th>region</th><th class="n">edges</th><th class="n">requests</th><th class="n">recommends</th><th class="n">p50</th><th class="n">p99</th><th class="n">fallback rate</th><th class="n">error rate</th><th>last report</th></tr></thead><tbody>
{{range .Rows}}<tr class="edge"><td>{{.Region}}</td><td class="n">{{.Instances}}</td><td class="n">{{.Requests}}</td><td class="n">{{.Recommends}}</td><td class="n">{{.P50}}</td><td class="n">{{.P99}}</td><td class="n">{{.Fallback}}</td><td class="n">{{.Errors}}</td><td>{{.Last}}</td></tr>
{{end}}</tbody></table>
<p class="muted">From the latest reports of each region's edges (up to {{$.KeepReports}} per region, sent about once a minute of traffic). Latency is the time a recommend request spends in the edge, read from a histogram: p50 and p99 are bucket bounds. Workers edges cannot time themselves (their clock stands still while code runs).</p>
{{with .Chart}}<h3>Recommend latency at the edge</h3>{{template "bars" .}}{{end}}
{{else}}<p class="muted" id="no-edges">No edge has reported yet.</p>{{end}}
{{end}}
<h2 id="searches">Top searches</h2>
{{if .Searches}}{{template "bars" .SearchChart}}{{else}}<p class="muted">No search events among the shop's ingested events.</p>{{end}}
{{with .Sentiment}}
<h2 id="sentiment">Review sentiment</h2>
<p class="muted">Every review scored by {{.Source}}: {{.PosShare}} positive, {{.NeuShare}} neutral, {{.NegShare}} negative.</p>
{{template "bars" .Chart}}
{{if .Worst}}<h3>Items with the most negative reviews</h3>
<table><thead><tr><th>item</th><th class="n">negative</th><th class="n">reviews</th><th class="n">share</th></tr></thead><tbody>
{{range .Worst}}<tr class="worst"><td>{{if .Title}}{{.Title}}{{else}}{{.Item}}{{end}}</td><td class="n">{{.Negative}}</td><td class="n">{{.Reviews}}</td><td class="n">{{.Share}}</td></tr>
{{end}}</tbody></table>{{end}}
{{end}}
{{if .ShowIntents}}<h2 id="intents">Top chat intents</h2>
{{if .Intents}}{{template "bars" .IntentChart}}{{else}}<p class="muted">No chat questions yet.</p>{{end}}{{end}}
{{with .Map}}
<h2>Map of the item embedding space{{with $.MapRegion}} ({{.}}){{end}}</h2>
<p class="muted">Each dot is an item ({{.Sampled}} of {{.Total}} shown), placed by the first two principal components of the item vectors and coloured by cluster; labels sit at cluster centroids. Nearby dots are items the recommender sees as similar.</p>
<svg class="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="2-D projection of item embeddings, coloured by cluster">
<g>{{range .Points}}<circle cx="{{.X}}" cy="{{.Y}}" r="2.6" fill="{{.Fill}}" fill-opacity="0.75"/>{{end}}</g>
<g>{{range .Labels}}<text x="{{.X}}" y="{{.Y}}">{{.Text}}</text>{{end}}</g>
</svg>
<ul class="legend">{{range .Legend}}<li><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" rx="2" fill="{{.Fill}}"/></svg> {{.Label}} <span class="muted">({{.Items}})</span></li>{{end}}</ul>
{{end}}
{{if .Segments}}
<h2>Visitor segments</h2>
<table><thead><tr><th>segment</th><th class="n">characteristic items</th><th>top items</th></tr></thead><tbody>
{{range .Segments}}<tr class="segment"><td>{{.Label}}</td><td class="n">{{.Items}}</td><td>{{range $i, $t := .Titles}}{{if $i}}; {{end}}{{$t}}{{end}}</td></tr>
{{end}}</tbody></table>
{{end}}
</body></html>
{{define "bars"}}{{with .}}<svg class="bars" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="{{.Label}}">
{{range .Rows}}<text class="label" x="{{labelX}}" y="{{.Y}}">{{.Label}}</text>{{range .Bars}}<rect x="{{barX}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" rx="2" fill="{{.Fill}}"/><text x="{{.TX}}" y="{{.TY}}">{{.Text}}</text>{{end}}
{{end}}</svg>
{{if .Legend}}<ul class="legend">{{range .Legend}}<li><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" rx="2" fill="{{.Fill}}"/></svg> {{.Label}}</li>{{end}}</ul>{{end}}{{end}}{{end}}
`

var pageTmpl = template.Must(template.New("dashboard").Funcs(template.FuncMap{
	"labelX": func() float64 { return labelW - 10 },
	"barX":   func() float64 { return labelW },
	"bytes": func(n int64) string {
		switch {
		case n >= 1<<20:
			return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
		case n >= 1<<10:
			return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
		}
		return fmt.Sprintf("%d B", n)
	},
}).Parse(strings.Replace(pageSrc, "@@CSS@@", css, 1)))
