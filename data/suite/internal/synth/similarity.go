package synth

import (
	"fmt"
	"strings"
)

// The similarity task: two sentences describing scenes, scored 0 to 5 by how much of
// the scene they share. A scene has five slots (who, doing what, to what, where,
// when). Each slot of the second sentence either repeats the first's value or a
// synonym of it (1 point), uses a related value (0.5 point: the same kind of person,
// action, object, place or time of day), or an unrelated one (0 points). The score is
// the sum. The time phrase may be moved to the front, and the place and time phrases
// may swap, so the score is not a matter of aligned positions.

// slotValue is one value of a slot: the phrases that mean it (synonyms) and the
// group of related values it belongs to.
type slotValue struct {
	phrases []string
	group   int
}

var (
	sceneSubjects = []slotValue{
		{[]string{"a man", "a guy"}, 0}, {[]string{"a boy", "a young boy"}, 0},
		{[]string{"a woman", "a lady"}, 1}, {[]string{"a girl", "a young girl"}, 1},
		{[]string{"a chef", "a cook"}, 2}, {[]string{"a doctor", "a physician"}, 2},
		{[]string{"a dog", "a puppy"}, 3}, {[]string{"a cat", "a kitten"}, 3},
	}
	sceneActions = []slotValue{
		{[]string{"is cutting", "is slicing"}, 0}, {[]string{"is peeling"}, 0},
		{[]string{"is carrying", "is holding"}, 1}, {[]string{"is lifting", "is raising"}, 1},
		{[]string{"is washing", "is cleaning"}, 2}, {[]string{"is drying"}, 2},
		{[]string{"is throwing", "is tossing"}, 3}, {[]string{"is kicking"}, 3},
	}
	sceneObjects = []slotValue{
		{[]string{"a tomato"}, 0}, {[]string{"an onion"}, 0}, {[]string{"a potato"}, 0},
		{[]string{"a ball"}, 1}, {[]string{"a frisbee"}, 1},
		{[]string{"a bag", "a sack"}, 2}, {[]string{"a box", "a crate"}, 2},
		{[]string{"a bottle"}, 3}, {[]string{"a cup", "a mug"}, 3},
	}
	scenePlaces = []slotValue{
		{[]string{"in the kitchen"}, 0}, {[]string{"in the living room", "in the lounge"}, 0},
		{[]string{"in the park"}, 1}, {[]string{"on the beach", "on the shore"}, 1},
		{[]string{"in the street", "on the road"}, 2}, {[]string{"at the market", "at the bazaar"}, 2},
	}
	sceneTimes = []slotValue{
		{[]string{"in the morning"}, 0}, {[]string{"at noon", "at midday"}, 0},
		{[]string{"in the evening"}, 1}, {[]string{"at night"}, 1},
	}
	sceneSlots = [][]slotValue{sceneSubjects, sceneActions, sceneObjects, scenePlaces, sceneTimes}
)

// relatedTo returns a value of the same group as values[i], other than i, or -1.
func relatedTo(r *rng, values []slotValue, i int) int {
	var same []int
	for j, v := range values {
		if j != i && v.group == values[i].group {
			same = append(same, j)
		}
	}
	if len(same) == 0 {
		return -1
	}
	return pick(r, same)
}

// unrelatedTo returns a value of another group than values[i].
func unrelatedTo(r *rng, values []slotValue, i int) int {
	for {
		if j := r.intn(len(values)); values[j].group != values[i].group {
			return j
		}
	}
}

// renderScene writes a scene (one value index per slot) as a sentence.
func renderScene(r *rng, scene [5]int) string {
	var p [5]string
	for s, i := range scene {
		p[s] = pick(r, sceneSlots[s][i].phrases)
	}
	switch r.intn(3) {
	case 0:
		return capitalize(strings.Join(p[:], " ")) + "."
	case 1:
		return capitalize(p[0]+" "+p[1]+" "+p[2]+" "+p[4]+" "+p[3]) + "."
	default:
		return capitalize(p[4]) + ", " + p[0] + " " + p[1] + " " + p[2] + " " + p[3] + "."
	}
}

// similarityPair returns two sentences and their score.
func similarityPair(r *rng) (string, string, float64) {
	var a, b [5]int
	keep := r.float() // how alike this pair is, so that scores spread over 0-5
	var score float64
	for s, values := range sceneSlots {
		a[s] = r.intn(len(values))
		switch {
		case r.chance(keep):
			b[s] = a[s]
			score++
		case r.chance(0.5):
			if j := relatedTo(r, values, a[s]); j >= 0 {
				b[s] = j
				score += 0.5
				break
			}
			fallthrough
		default:
			b[s] = unrelatedTo(r, values, a[s])
		}
	}
	return renderScene(r, a), renderScene(r, b), score
}

// similarityRows writes n pairs in the STS-B layout, shuffled.
func similarityRows(r *rng, n int, seen map[string]bool) []byte {
	rows := make([][]string, 0, n)
	for len(rows) < n {
		s1, s2, score := similarityPair(r)
		if seen[s1+"\t"+s2] {
			continue
		}
		seen[s1+"\t"+s2] = true
		rows = append(rows, []string{s1, s2, fmt.Sprintf("%.3f", score)})
	}
	var w tsvWriter
	w.row("index", "genre", "filename", "year", "old_index", "source1", "source2", "sentence1", "sentence2", "score")
	for i, row := range rows {
		w.row(fmt.Sprint(i), "main-synth", "scenes", "gen1", fmt.Sprintf("%04d", i), "none", "none", row[0], row[1], row[2])
	}
	return w.b.Bytes()
}
