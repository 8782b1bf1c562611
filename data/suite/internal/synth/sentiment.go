package synth

import "strings"

// The sentiment task: one review sentence, positive (1) or negative (0). The label
// follows from the composition of the sentence, not from any single word: adjectives
// of either polarity are negated ("is hardly charming"), and in contrastive sentences
// the main clause decides ("X, but Y" and "although X, Y" follow Y; "Y, even though X"
// follows Y; "despite the <adj> <noun>, Y" follows Y).

var (
	reviewSubjects = []string{
		"the film", "the movie", "the story", "the acting", "the script", "the soundtrack",
		"the ending", "the dialogue", "the cast", "the pacing", "the camera work", "the plot",
		"the lead performance", "the humor", "the finale", "the direction",
	}
	// Nouns for "despite the <adj> <noun>".
	reviewNouns = []string{"script", "ending", "pacing", "dialogue", "soundtrack", "plot", "cast", "humor"}
	positiveAdj = []string{
		"brilliant", "moving", "charming", "gripping", "delightful", "superb", "clever", "heartfelt",
		"memorable", "stunning", "witty", "engaging", "graceful", "inventive", "tender", "thrilling",
	}
	negativeAdj = []string{
		"dull", "clumsy", "tedious", "shallow", "forgettable", "bland", "awkward", "messy",
		"predictable", "lifeless", "tiresome", "muddled", "hollow", "sluggish", "stale", "grating",
	}
	degrees = []string{"", "", "very ", "truly ", "rather ", "quite ", "mostly ", "genuinely "}
	// Copulas that keep the adjective's polarity, and ones that flip it.
	plainCopulas   = []string{"is", "feels", "seems", "is often", "turns out to be"}
	negatedCopulas = []string{"is not", "is never", "is hardly", "is far from", "does not feel", "never seems"}
	openers        = []string{"", "", "", "honestly , ", "in the end , ", "overall , ", "to be fair , ", "frankly , "}
)

// clause returns "<subject> <copula> <adjective>" with the given polarity, about a
// subject other than avoid. Degree adverbs go with plain copulas only ("is truly
// dull", "is hardly dull").
func clause(r *rng, positive bool, avoid string) string {
	negate := r.chance(0.25)
	adjPositive := positive != negate
	adj := pick(r, negativeAdj)
	if adjPositive {
		adj = pick(r, positiveAdj)
	}
	cop := pick(r, plainCopulas) + " " + pick(r, degrees)
	if negate {
		cop = pick(r, negatedCopulas) + " "
	}
	subject := pick(r, reviewSubjects)
	for subject == avoid {
		subject = pick(r, reviewSubjects)
	}
	return subject + " " + cop + adj
}

// subjectOf returns the subject a clause starts with.
func subjectOf(clause string) string {
	for _, s := range reviewSubjects {
		if strings.HasPrefix(clause, s+" ") {
			return s
		}
	}
	return ""
}

// sentimentSentence returns a sentence whose sentiment is positive or not.
func sentimentSentence(r *rng, positive bool) string {
	main := clause(r, positive, "")
	minor := clause(r, !positive, subjectOf(main))
	var s string
	switch r.intn(8) {
	case 0, 1, 7:
		s = main
	case 2:
		s = minor + " , but " + main
	case 3:
		s = "although " + minor + " , " + main
	case 4:
		s = main + " , even though " + minor
	case 5:
		adj := pick(r, positiveAdj)
		if positive {
			adj = pick(r, negativeAdj)
		}
		s = "despite the " + adj + " " + pick(r, reviewNouns) + " , " + main
	case 6:
		s = main + " and " + clause(r, positive, subjectOf(main))
	}
	return pick(r, openers) + s + " ."
}

// sentimentRows writes n rows in the SST-2 layout, half of each label, shuffled.
func sentimentRows(r *rng, n int, seen map[string]bool) []byte {
	rows := make([][]string, 0, n)
	for len(rows) < n {
		positive := len(rows)%2 == 0
		s := sentimentSentence(r, positive)
		if seen[s] {
			continue
		}
		seen[s] = true
		rows = append(rows, []string{s, labelText(positive)})
	}
	shuffle(r, rows)
	var w tsvWriter
	w.row("sentence", "label")
	for _, row := range rows {
		w.row(row...)
	}
	return w.b.Bytes()
}
