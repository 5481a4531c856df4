// Command interop checks a live urne board with code urne did not write: Go's
// golang.org/x/mod/sumdb/note (C2SP signed-note) and golang.org/x/mod/sumdb/tlog
// (RFC 6962 trees, tiles, proofs). issue 13 §1, docs/conformance.md.
//
// Usage: interop <board URL> <board vkey> <older size>
//
// It verifies the signed checkpoint with the board's vkey; recomputes the tree hash
// from the board's tiles (C2SP tlog-tiles paths); hashes every entry of every entry
// bundle (asked gzipped) against the level-0 tiles; checks the board's inclusion and
// consistency proofs with tlog.CheckRecord and tlog.CheckTree, and that they are the
// proofs tlog itself derives; and shows the checkpoint, tree-hash and proof checks
// failing on altered input (the entries and gzip checks have no negative case). It prints
// one "ok:" line per check and exits 1 at the first failure.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var board string

func fail(format string, args ...interface{}) {
	fmt.Printf("FAIL: "+format+"\n", args...)
	os.Exit(1)
}

// unzipped: whether Go's transport unzipped the last answer. It asks for gzip itself,
// so the entry bundles must come compressed (tlog-tiles: they SHOULD be).
var unzipped bool

func fetch(path string) []byte {
	resp, err := http.Get(board + "/" + path)
	if err != nil {
		fail("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		fail("GET %s: %v", path, err)
	}
	if resp.StatusCode != 200 {
		fail("GET %s: status %d: %s", path, resp.StatusCode, body)
	}
	unzipped = resp.Uncompressed
	return body
}

// tiles reads C2SP tlog-tiles paths: tile/<L>/<N>[.p/<W>], where x/mod's sumdb paths
// carry the height too (tile/8/<L>/...).
type tiles struct{ corrupt bool }

func (tiles) Height() int { return 8 }

func (r tiles) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(ts))
	for i, t := range ts {
		if t.H != 8 || t.L < 0 {
			return nil, fmt.Errorf("unexpected tile %v", t)
		}
		data := fetch("tile/" + strings.TrimPrefix(t.Path(), "tile/8/"))
		if r.corrupt && t.L == 0 && len(data) > 0 {
			data = append([]byte(nil), data...)
			data[len(data)-1] ^= 1
		}
		out[i] = data
	}
	return out, nil
}

func (tiles) SaveTiles([]tlog.Tile, [][]byte) {}

func hashes(list []string) []tlog.Hash {
	out := make([]tlog.Hash, len(list))
	for i, h := range list {
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != tlog.HashSize {
			fail("proof hash %q is not 64 hex digits", h)
		}
		copy(out[i][:], b)
	}
	return out
}

func main() {
	if len(os.Args) != 4 {
		fmt.Println("usage: interop <board URL> <board vkey> <older size>")
		os.Exit(2)
	}
	board = strings.TrimSuffix(os.Args[1], "/")
	older, err := strconv.ParseInt(os.Args[3], 10, 64)
	if err != nil {
		fail("older size: %v", err)
	}

	// Checkpoint: a signed note (C2SP signed-note), its text a C2SP tlog-checkpoint.
	verifier, err := note.NewVerifier(os.Args[2])
	if err != nil {
		fail("board vkey: %v", err)
	}
	msg := fetch("checkpoint")
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint signature: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != verifier.Name() {
		fail("checkpoint text %q: origin is not the key name %q", n.Text, verifier.Name())
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || strconv.FormatInt(size, 10) != lines[1] {
		fail("checkpoint size %q", lines[1])
	}
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != tlog.HashSize {
		fail("checkpoint root %q", lines[2])
	}
	var root tlog.Hash
	copy(root[:], rootBytes)
	altered := bytes.Replace(msg, []byte("\n"+lines[1]+"\n"), []byte("\n"+strconv.FormatInt(size+1, 10)+"\n"), 1)
	if _, err := note.Open(altered, note.VerifierList(verifier)); err == nil {
		fail("a checkpoint with an altered size verified")
	}
	fmt.Printf("ok: checkpoint %s of size %d verified by note.Open; an altered one is refused\n", verifier.Name(), size)
	if older < 1 || older >= size {
		fail("older size %d is not in 1..%d", older, size-1)
	}

	// The tree hash from the tiles.
	tree := tlog.Tree{N: size, Hash: root}
	reader := tlog.TileHashReader(tree, tiles{})
	th, err := tlog.TreeHash(size, reader)
	if err != nil || th != root {
		fail("tree hash from tiles: %v (%v, checkpoint %v)", err, th, root)
	}
	if _, err := tlog.TreeHash(size, tlog.TileHashReader(tree, tiles{corrupt: true})); err == nil {
		fail("a tile with one altered bit was accepted")
	}
	fmt.Printf("ok: tree hash from tiles is the checkpoint's root; an altered tile is refused\n")

	// Every entry of every bundle against the level-0 tile hashes.
	var index int64
	for index < size {
		width := size - index
		if width > 256 {
			width = 256
		}
		tile := tlog.Tile{H: 8, L: -1, N: index / 256, W: int(width)}
		path := "tile/entries/" + strings.TrimPrefix(tile.Path(), "tile/8/data/")
		bundle := fetch(path)
		if !unzipped {
			fail("%s was not sent gzipped to a client that accepts gzip", path)
		}
		want := make([]int64, width)
		for i := range want {
			want[i] = tlog.StoredHashIndex(0, index+int64(i))
		}
		leaves, err := reader.ReadHashes(want)
		if err != nil {
			fail("leaf hashes of %s: %v", path, err)
		}
		for i := int64(0); i < width; i++ {
			if len(bundle) < 2 {
				fail("%s ends before entry %d", path, index+i)
			}
			length := int(bundle[0])<<8 | int(bundle[1])
			if len(bundle) < 2+length {
				fail("%s: entry %d is cut", path, index+i)
			}
			if tlog.RecordHash(bundle[2:2+length]) != leaves[i] {
				fail("%s: entry %d does not hash to its tile's leaf", path, index+i)
			}
			bundle = bundle[2+length:]
		}
		if len(bundle) != 0 {
			fail("%s: %d bytes after its %d entries", path, len(bundle), width)
		}
		index += width
	}
	fmt.Printf("ok: %d entries in %d gzipped bundles hash to their level-0 tiles\n", size, (size+255)/256)

	// The board's inclusion proofs, checked by tlog and equal to tlog's own.
	picks := []int64{0, older - 1, size / 2, size - 1}
	for _, i := range picks {
		var proof struct {
			Leaf  string   `json:"leaf"`
			Root  string   `json:"root"`
			Proof []string `json:"proof"`
		}
		if err := json.Unmarshal(fetch(fmt.Sprintf("v1/proof/inclusion?index=%d&size=%d", i, size)), &proof); err != nil {
			fail("inclusion proof of %d: %v", i, err)
		}
		leaf := hashes([]string{proof.Leaf})[0]
		path := hashes(proof.Proof)
		if err := tlog.CheckRecord(path, size, root, i, leaf); err != nil {
			fail("inclusion proof of %d: %v", i, err)
		}
		own, err := tlog.ProveRecord(size, i, reader)
		if err != nil || fmt.Sprint(own) != fmt.Sprint(tlog.RecordProof(path)) {
			fail("inclusion proof of %d differs from tlog's (%v)", i, err)
		}
		if len(path) > 0 {
			path[0][0] ^= 1
			if tlog.CheckRecord(path, size, root, i, leaf) == nil {
				fail("an altered inclusion proof of %d verified", i)
			}
		}
	}
	fmt.Printf("ok: %d inclusion proofs verify with tlog.CheckRecord and equal tlog.ProveRecord's\n", len(picks))

	// The board's consistency proof from the older size.
	var consistency struct {
		Proof []string `json:"proof"`
	}
	if err := json.Unmarshal(fetch(fmt.Sprintf("v1/proof/consistency?first=%d&second=%d", older, size)), &consistency); err != nil {
		fail("consistency proof: %v", err)
	}
	oldRoot, err := tlog.TreeHash(older, reader)
	if err != nil {
		fail("tree hash at %d: %v", older, err)
	}
	path := hashes(consistency.Proof)
	if err := tlog.CheckTree(path, size, root, older, oldRoot); err != nil {
		fail("consistency proof %d → %d: %v", older, size, err)
	}
	own, err := tlog.ProveTree(size, older, reader)
	if err != nil || fmt.Sprint(own) != fmt.Sprint(tlog.TreeProof(path)) {
		fail("consistency proof differs from tlog.ProveTree's (%v)", err)
	}
	oldRoot[0] ^= 1
	if tlog.CheckTree(path, size, root, older, oldRoot) == nil {
		fail("a consistency proof verified against an altered older root")
	}
	fmt.Printf("ok: consistency proof %d → %d verifies with tlog.CheckTree and equals tlog.ProveTree's\n", older, size)
}
