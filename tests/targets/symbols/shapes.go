package main

// Closures: one returned and called later, one called in place (often inlined), one nested.
func makeCounter() func() int {
	c := 0
	return func() int {
		c++
		capture()
		return c
	}
}

//go:noinline
func closures() int {
	next := makeCounter()
	total := next() + next()
	total += func(k int) int {
		capture()
		return k * 2
	}(5)
	nested := func() int {
		inner := func() int {
			capture()
			return 3
		}
		return inner() + 1
	}
	return total + nested()
}

// Methods on value and pointer receivers, called directly and through an interface (which goes
// through the compiler-generated pointer wrapper of the value method).
type Point struct{ X, Y int }

//go:noinline
func (p Point) Sum() int {
	capture()
	return p.X + p.Y
}

//go:noinline
func (p *Point) Scale(k int) {
	p.X *= k
	p.Y *= k
	capture()
}

type Summer interface{ Sum() int }

//go:noinline
func methods() int {
	p := Point{1, 2}
	p.Scale(3)
	var s Summer = &p
	return p.Sum() + s.Sum()
}

// Generics: a function and a method of a generic type, each instantiated with two shapes.
type Number interface{ ~int | ~float64 }

//go:noinline
func Total[T Number](xs []T) T {
	var t T
	for _, x := range xs {
		t += x
	}
	capture()
	return t
}

type Stack[T any] struct{ items []T }

//go:noinline
func (s *Stack[T]) Push(v T) {
	s.items = append(s.items, v)
	capture()
}

//go:noinline
func generics() int {
	var a Stack[int]
	a.Push(1)
	var b Stack[string]
	b.Push("x")
	return Total([]int{1, 2, 3}) + int(Total([]float64{1.5, 2.5})) + len(a.items) + len(b.items)
}

// goAsmCallback is called from assembly (asmCall), so the captured stack holds an assembly frame.
//
//go:noinline
func goAsmCallback(n int64) int64 {
	capture()
	return n * 3
}
