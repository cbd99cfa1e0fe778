package memory

// IDs are handed out in increasing order, so the store finds a job by ID in
// a paged array instead of a map: a lookup is two indexings, neighbouring
// IDs share cache lines, and walking the pages lists jobs in ID order.

const (
	pageBits = 10
	pageSize = 1 << pageBits
)

// page holds the jobs of pageSize consecutive IDs.
type page struct {
	jobs [pageSize]*job
	live int
}

// index maps IDs to jobs.
type index struct {
	pages []*page // pages[i] holds the IDs of page number first+i
	first int64
}

func (x *index) get(id int64) *job {
	if id <= 0 {
		return nil
	}
	n := id>>pageBits - x.first
	if n < 0 || n >= int64(len(x.pages)) || x.pages[n] == nil {
		return nil
	}
	return x.pages[n].jobs[id&(pageSize-1)]
}

// add stores j, whose ID is larger than any stored before.
func (x *index) add(j *job) {
	pn := j.id >> pageBits
	if len(x.pages) == 0 {
		x.first = pn
	}
	for int64(len(x.pages)) <= pn-x.first {
		x.pages = append(x.pages, nil)
	}
	p := x.pages[pn-x.first]
	if p == nil {
		p = new(page)
		x.pages[pn-x.first] = p
		// The page before is complete now; drop it if it emptied meanwhile.
		if prev := pn - 1 - x.first; prev >= 0 && x.pages[prev] != nil && x.pages[prev].live == 0 {
			x.drop(prev)
		}
	}
	p.jobs[j.id&(pageSize-1)] = j
	p.live++
}

// del forgets job id. lastID is the largest ID handed out so far.
func (x *index) del(id, lastID int64) {
	n := id>>pageBits - x.first
	p := x.pages[n]
	p.jobs[id&(pageSize-1)] = nil
	p.live--
	// A page is dropped once it is empty and no ID still to come falls in it.
	if p.live == 0 && (id>>pageBits+1)<<pageBits <= lastID+1 {
		x.drop(n)
	}
}

// drop frees pages[n] and trims the empty pages at the front.
func (x *index) drop(n int64) {
	x.pages[n] = nil
	for len(x.pages) > 0 && x.pages[0] == nil {
		x.pages = x.pages[1:]
		x.first++
	}
	if len(x.pages) == 0 {
		x.pages = nil
	}
}

// each calls f for the stored jobs with IDs above after, in ID order,
// until f returns false.
func (x *index) each(after int64, f func(*job) bool) {
	start := max(after+1, x.first<<pageBits)
	for n := start>>pageBits - x.first; n < int64(len(x.pages)); n++ {
		p := x.pages[n]
		if p == nil {
			continue
		}
		i := int64(0)
		if n == start>>pageBits-x.first {
			i = start & (pageSize - 1)
		}
		for ; i < pageSize; i++ {
			if j := p.jobs[i]; j != nil && !f(j) {
				return
			}
		}
	}
}

// eachBefore calls f for the stored jobs with IDs below before, in
// descending ID order, until f returns false.
func (x *index) eachBefore(before int64, f func(*job) bool) {
	last := before - 1
	for n := min(last>>pageBits-x.first, int64(len(x.pages))-1); n >= 0; n-- {
		p := x.pages[n]
		if p == nil {
			continue
		}
		i := int64(pageSize - 1)
		if n == last>>pageBits-x.first {
			i = last & (pageSize - 1)
		}
		for ; i >= 0; i-- {
			if j := p.jobs[i]; j != nil && !f(j) {
				return
			}
		}
	}
}
