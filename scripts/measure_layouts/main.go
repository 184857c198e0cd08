// measure_layouts prints, as JSON, the layouts of the Go runtime structures goperf reads, measured
// from the DWARF and the symbol table of an unstripped Go binary: field offsets of runtime.g, m,
// gobuf, moduledata, _func, inlinedCall, the structures a goroutine waits on (sudog, hchan, timer,
// pollDesc, notifyList, sync.Mutex, RWMutex, WaitGroup, Cond) (nested structs flattened as "sched.sp"), the waitReason
// strings (runtime.waitReasonStrings read from the binary's data) and the funcID constants.
//
// Usage: measure_layouts BINARY > tests/fixtures/layouts/go1.XX.json (see scripts/measure_layouts.sh).
package main

import (
	"debug/buildinfo"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

type field struct {
	Name   string `json:"name"`
	Offset int64  `json:"offset"`
	Size   int64  `json:"size"`
}

type structLayout struct {
	Size   int64   `json:"size"`
	Fields []field `json:"fields"`
}

type output struct {
	GoVersion   string                  `json:"go_version"`
	Structs     map[string]structLayout `json:"structs"`
	WaitReasons []string                `json:"wait_reasons"`
	FuncIDs     map[string]int64        `json:"func_ids"`
	GStatus     map[string]int64        `json:"g_status"`
}

var wanted = []string{"runtime.g", "runtime.m", "runtime.gobuf", "runtime.stack", "runtime.moduledata",
	"runtime._func", "runtime.inlinedCall", "runtime.pcHeader", "runtime.functab", "runtime.textsect",
	"runtime.sudog", "runtime.hchan", "runtime.waitq", "runtime.timer", "runtime.pollDesc", "runtime.notifyList",
	"sync.Mutex", "sync.RWMutex", "sync.WaitGroup", "sync.Cond"}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "measure_layouts: "+format+"\n", args...)
	os.Exit(1)
}

// flatten appends the members of a struct type, recursing into struct members up to depth 2.
func flatten(t dwarf.Type, prefix string, base int64, depth int, out *[]field) {
	st, ok := t.(*dwarf.StructType)
	if !ok {
		return
	}
	for _, f := range st.Field {
		name := prefix + f.Name
		*out = append(*out, field{name, base + f.ByteOffset, f.Type.Size()})
		ft := f.Type
		for {
			td, ok := ft.(*dwarf.TypedefType)
			if !ok {
				break
			}
			ft = td.Type
		}
		if inner, ok := ft.(*dwarf.StructType); ok && depth < 2 && !strings.HasPrefix(inner.StructName, "[]") &&
			inner.StructName != "string" {
			flatten(inner, name+".", base+f.ByteOffset, depth+1, out)
		}
	}
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: measure_layouts BINARY")
	}
	path := os.Args[1]
	f, err := elf.Open(path)
	if err != nil {
		fail("%v", err)
	}
	defer f.Close()
	d, err := f.DWARF()
	if err != nil {
		fail("%s: no DWARF (build without -w): %v", path, err)
	}
	out := output{Structs: map[string]structLayout{}, FuncIDs: map[string]int64{}, GStatus: map[string]int64{}}
	if bi, err := buildinfo.ReadFile(path); err == nil {
		out.GoVersion = bi.GoVersion
	}
	want := map[string]bool{}
	for _, w := range wanted {
		want[w] = true
	}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			fail("reading DWARF: %v", err)
		}
		if e == nil {
			break
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		switch e.Tag {
		case dwarf.TagStructType:
			if !want[name] {
				continue
			}
			if _, done := out.Structs[name]; done {
				continue
			}
			t, err := d.Type(e.Offset)
			if err != nil {
				fail("type %s: %v", name, err)
			}
			var fields []field
			flatten(t, "", 0, 0, &fields)
			out.Structs[name] = structLayout{t.Size(), fields}
		case dwarf.TagConstant:
			v, ok := e.Val(dwarf.AttrConstValue).(int64)
			if !ok {
				continue
			}
			if strings.HasPrefix(name, "runtime.funcID_") || strings.HasPrefix(name, "internal/abi.FuncID") {
				out.FuncIDs[name] = v
			}
			if strings.HasPrefix(name, "runtime._G") && !strings.HasPrefix(name, "runtime._GC") &&
				!strings.HasPrefix(name, "runtime._Goid") {
				out.GStatus[name] = v
			}
		}
	}
	out.WaitReasons = waitReasons(f)
	for _, w := range wanted {
		if _, ok := out.Structs[w]; !ok && w != "runtime.textsect" {
			fail("%s: struct %s not in DWARF", path, w)
		}
	}
	for _, s := range out.Structs {
		sort.SliceStable(s.Fields, func(i, j int) bool { return s.Fields[i].Offset < s.Fields[j].Offset })
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fail("%v", err)
	}
}

// waitReasons reads runtime.waitReasonStrings ([N]string) through the symbol table.
func waitReasons(f *elf.File) []string {
	syms, err := f.Symbols()
	if err != nil {
		fail("no symbol table: %v", err)
	}
	for _, s := range syms {
		if s.Name != "runtime.waitReasonStrings" {
			continue
		}
		table := read(f, s.Value, s.Size)
		var reasons []string
		for i := uint64(0); i+16 <= uint64(len(table)); i += 16 {
			ptr := binary.LittleEndian.Uint64(table[i:])
			n := binary.LittleEndian.Uint64(table[i+8:])
			if n == 0 {
				reasons = append(reasons, "")
				continue
			}
			reasons = append(reasons, string(read(f, ptr, n)))
		}
		return reasons
	}
	fail("runtime.waitReasonStrings not in the symbol table")
	return nil
}

func read(f *elf.File, addr, size uint64) []byte {
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && addr >= p.Vaddr && addr+size <= p.Vaddr+p.Filesz {
			b := make([]byte, size)
			if _, err := p.ReadAt(b, int64(addr-p.Vaddr)); err != nil {
				fail("reading %#x: %v", addr, err)
			}
			return b
		}
	}
	fail("address %#x+%d not in the file", addr, size)
	return nil
}
