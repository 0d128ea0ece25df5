// Package embed is the hub side of text embeddings: it trains the static
// token embedder from a shop's behaviour (TrainStatic) or distils it from a
// teacher model (Distil), exports it as an ONNX model directory
// (ExportONNX), and runs any Hugging Face ONNX sentence-embedding directory
// — the exported one included — through hugot's pure-Go feature-extraction
// pipeline (OpenHugot). The edge embeds with the same table through
// shared/embed; the two agree to a cosine of at least 0.999.
//
// ColdStart measures what the trained embedder is for: placing items that
// have no behaviour yet.
package embed
