package tokenizer

// suffixArray returns the suffix array of s, whose values must lie in [0, alphabet).
// It uses prefix doubling with radix sorting: O(n log L) for a longest repeat of L.
func suffixArray(s []int32, alphabet int) []int32 {
	n := len(s)
	sa := make([]int32, n)
	if n == 0 {
		return sa
	}
	rank := make([]int32, n)
	tmp := make([]int32, n)
	cnt := make([]int32, max(alphabet, n)+1)
	// Initial order: counting sort by symbol.
	for _, c := range s {
		cnt[c+1]++
	}
	for i := 1; i <= alphabet; i++ {
		cnt[i] += cnt[i-1]
	}
	for i, c := range s {
		sa[cnt[c]] = int32(i)
		cnt[c]++
	}
	rank[sa[0]] = 0
	for i := 1; i < n; i++ {
		rank[sa[i]] = rank[sa[i-1]]
		if s[sa[i]] != s[sa[i-1]] {
			rank[sa[i]]++
		}
	}
	for k := 1; int(rank[sa[n-1]]) < n-1; k <<= 1 {
		// Order by the second key (rank at i+k, suffixes without one first) ...
		p := 0
		for i := n - k; i < n; i++ {
			if i >= 0 {
				tmp[p] = int32(i)
				p++
			}
		}
		for _, j := range sa {
			if int(j) >= k {
				tmp[p] = j - int32(k)
				p++
			}
		}
		// ... then stably by the first key.
		maxRank := int(rank[sa[n-1]])
		clear(cnt[:maxRank+2])
		for _, r := range rank {
			cnt[r+1]++
		}
		for i := 1; i <= maxRank+1; i++ {
			cnt[i] += cnt[i-1]
		}
		for _, j := range tmp[:n] {
			r := rank[j]
			sa[cnt[r]] = j
			cnt[r]++
		}
		second := func(i int32) int32 {
			if int(i)+k < n {
				return rank[int(i)+k]
			}
			return -1
		}
		tmp[sa[0]] = 0
		for i := 1; i < n; i++ {
			a, b := sa[i-1], sa[i]
			tmp[b] = tmp[a]
			if rank[a] != rank[b] || second(a) != second(b) {
				tmp[b]++
			}
		}
		rank, tmp = tmp, rank
	}
	return sa
}

// lcpArray returns lcp[i] = the length of the longest common prefix of the suffixes
// sa[i-1] and sa[i] (lcp[0] = 0), by Kasai's algorithm.
func lcpArray(s, sa []int32) []int32 {
	n := len(s)
	inv := make([]int32, n)
	for i, p := range sa {
		inv[p] = int32(i)
	}
	lcp := make([]int32, n)
	h := 0
	for i := 0; i < n; i++ {
		if inv[i] == 0 {
			h = 0
			continue
		}
		j := int(sa[inv[i]-1])
		for i+h < n && j+h < n && s[i+h] == s[j+h] {
			h++
		}
		lcp[inv[i]] = int32(h)
		if h > 0 {
			h--
		}
	}
	return lcp
}

// lcpIntervals calls fn for every internal node of the suffix tree: a substring of
// length depth > 0 that occurs at suffix-array positions [lo, hi) with hi-lo >= 2, and
// is followed by at least two different symbols.
func lcpIntervals(lcp []int32, fn func(depth, lo, hi int)) {
	type frame struct{ lcp, lo int }
	stack := []frame{{0, 0}}
	n := len(lcp)
	for i := 1; i <= n; i++ {
		cur := 0
		if i < n {
			cur = int(lcp[i])
		}
		lo := i - 1
		for cur < stack[len(stack)-1].lcp {
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			fn(f.lcp, f.lo, i)
			lo = f.lo
		}
		if cur > stack[len(stack)-1].lcp {
			stack = append(stack, frame{cur, lo})
		}
	}
}
