package synth

import "fmt"

// The paraphrase task: two sentences about an event, equivalent (1) when they describe
// the same event and not equivalent (0) otherwise. Both sentences of a pair are
// rendered independently (active or passive voice, synonyms, order of the place and
// time phrases), so equivalent pairs often differ in many words, while a
// non-equivalent pair differs from an equivalent one in one detail: the agent, the
// action, the object, the place, the day, a negation, or who did what to whom.

type verb struct{ base, past, participle string }

var (
	// Verbs taking a thing as object; each group is a set of synonyms.
	thingVerbs = [][]verb{
		{{"buy", "bought", "bought"}, {"purchase", "purchased", "purchased"}},
		{{"fix", "fixed", "fixed"}, {"repair", "repaired", "repaired"}},
		{{"find", "found", "found"}, {"discover", "discovered", "discovered"}},
		{{"sell", "sold", "sold"}},
		{{"paint", "painted", "painted"}},
		{{"clean", "cleaned", "cleaned"}, {"wash", "washed", "washed"}},
		{{"borrow", "borrowed", "borrowed"}},
		{{"lose", "lost", "lost"}, {"misplace", "misplaced", "misplaced"}},
		{{"inspect", "inspected", "inspected"}, {"examine", "examined", "examined"}},
		{{"move", "moved", "moved"}, {"relocate", "relocated", "relocated"}},
	}
	// Verbs taking a person as object.
	personVerbs = [][]verb{
		{{"call", "called", "called"}, {"phone", "phoned", "phoned"}},
		{{"visit", "visited", "visited"}},
		{{"help", "helped", "helped"}, {"assist", "assisted", "assisted"}},
		{{"thank", "thanked", "thanked"}},
		{{"warn", "warned", "warned"}, {"alert", "alerted", "alerted"}},
		{{"interview", "interviewed", "interviewed"}},
		{{"praise", "praised", "praised"}, {"commend", "commended", "commended"}},
	}
	// Things; each group is a set of synonyms.
	things = [][]string{
		{"car", "automobile"}, {"bicycle", "bike"}, {"sofa", "couch"}, {"boat"}, {"lamp"},
		{"table"}, {"radio"}, {"clock"}, {"piano"}, {"fridge", "refrigerator"}, {"television", "TV"},
	}
	thingAdjectives = []string{"red", "blue", "green", "yellow", "old", "new", "small", "large"}
	people          = []string{
		"Anna", "Ben", "Carla", "David", "Elena", "Farid", "Grace", "Hugo",
		"Irene", "Jonas", "Kira", "Leo", "Maya", "Nico", "Olga", "Pavel",
	}
	cities = []string{"Berlin", "Lisbon", "Oslo", "Madrid", "Vienna", "Prague", "Dublin", "Warsaw"}
	days   = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
)

// event is what a sentence says; indexes into the tables above.
type event struct {
	agent   int
	person  bool // the object is a person (personVerbs, patient) or a thing (thingVerbs, thing, adj)
	verb    int
	patient int
	thing   int
	adj     int
	city    int
	day     int
	negated bool
}

func randomEvent(r *rng) event {
	e := event{agent: r.intn(len(people)), person: r.chance(0.4), city: r.intn(len(cities)), day: r.intn(len(days))}
	if e.person {
		e.verb = r.intn(len(personVerbs))
		e.patient = r.other(len(people), e.agent)
	} else {
		e.verb = r.intn(len(thingVerbs))
		e.thing = r.intn(len(things))
		e.adj = r.intn(len(thingAdjectives))
	}
	e.negated = r.chance(0.15)
	return e
}

// perturb returns an event that differs from e in one detail.
func perturb(r *rng, e event) event {
	for {
		p := e
		switch r.intn(8) {
		case 0:
			p.agent = r.other(len(people), e.agent)
		case 1:
			if e.person {
				p.verb = r.other(len(personVerbs), e.verb)
			} else {
				p.verb = r.other(len(thingVerbs), e.verb)
			}
		case 2:
			if e.person {
				p.patient = r.other(len(people), e.patient)
			} else {
				p.thing = r.other(len(things), e.thing)
			}
		case 3:
			if e.person {
				continue
			}
			p.adj = r.other(len(thingAdjectives), e.adj)
		case 4:
			p.city = r.other(len(cities), e.city)
		case 5:
			p.day = r.other(len(days), e.day)
		case 6:
			p.negated = !e.negated
		case 7:
			if !e.person {
				continue
			}
			p.agent, p.patient = e.patient, e.agent
		}
		if p != e && (!p.person || p.agent != p.patient) {
			return p
		}
	}
}

// render writes the event as a sentence, choosing voice, synonyms and word order at
// random.
func render(r *rng, e event) string {
	var v verb
	var object string
	if e.person {
		v = pick(r, personVerbs[e.verb])
		object = people[e.patient]
	} else {
		v = pick(r, thingVerbs[e.verb])
		object = "the " + thingAdjectives[e.adj] + " " + pick(r, things[e.thing])
	}
	agent := people[e.agent]
	var core string
	switch passive := r.chance(0.5); {
	case passive && e.negated:
		core = fmt.Sprintf("%s was not %s by %s", object, v.participle, agent)
	case passive:
		core = fmt.Sprintf("%s was %s by %s", object, v.participle, agent)
	case e.negated:
		core = fmt.Sprintf("%s did not %s %s", agent, v.base, object)
	default:
		core = fmt.Sprintf("%s %s %s", agent, v.past, object)
	}
	place, day := "in "+cities[e.city], "on "+days[e.day]
	switch r.intn(3) {
	case 0:
		return capitalize(core) + " " + place + " " + day + "."
	case 1:
		return capitalize(core) + " " + day + " " + place + "."
	default:
		return capitalize(day) + ", " + core + " " + place + "."
	}
}

// paraphraseRows writes n pairs in the MRPC layout, half of each label, shuffled.
func paraphraseRows(r *rng, n int, seen map[string]bool) []byte {
	rows := make([][]string, 0, n)
	for len(rows) < n {
		equivalent := len(rows)%2 == 0
		e := randomEvent(r)
		s1 := render(r, e)
		var s2 string
		if equivalent {
			for range 20 {
				if s2 = render(r, e); s2 != s1 {
					break
				}
			}
		} else {
			s2 = render(r, perturb(r, e))
		}
		if s1 == s2 || seen[s1+"\t"+s2] {
			continue
		}
		seen[s1+"\t"+s2] = true
		rows = append(rows, []string{labelText(equivalent), s1, s2})
	}
	shuffle(r, rows)
	var w tsvWriter
	w.row("Quality", "#1 ID", "#2 ID", "#1 String", "#2 String")
	ids := map[int]bool{}
	newID := func() string {
		for {
			id := 100000 + r.intn(900000)
			if !ids[id] {
				ids[id] = true
				return fmt.Sprint(id)
			}
		}
	}
	for _, row := range rows {
		w.row(row[0], newID(), newID(), row[1], row[2])
	}
	return w.b.Bytes()
}
