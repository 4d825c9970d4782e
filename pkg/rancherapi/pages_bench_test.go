package rancherapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// corpusPage builds a page of n copies of a real Cattle 1.6 container
// (the corpus's rancher-agent, about 7 KB of JSON), each with its own id.
func corpusPage(tb testing.TB, n int) []byte {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(corpusDir, "v2beta-1.6-container-native-agent.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		tb.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString(`{"type":"collection","resourceType":"container","links":{"self":"http://rancher/v2-beta/projects/1a5/containers"},"data":[`)
	for i := range n {
		obj["id"] = fmt.Sprintf("1i%d", 1000+i)
		row, _ := json.Marshal(obj)
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(row)
	}
	b.WriteString(`],"sortLinks":{},"pagination":{"first":null,"previous":null,"next":null,"limit":1000,"total":null,"partial":false},"sort":null,"filters":{},"createDefaults":{}}`)
	return b.Bytes()
}

// BenchmarkDecodePage decodes a page of 1,000 real Cattle containers into
// the slim container type, as go-rancher's List did (json.Unmarshal of the
// page read whole) and as readPage does (streamed, unknown fields skipped
// by internal/jsonskim). ns/row is the cost per container.
func BenchmarkDecodePage(b *testing.B) {
	const rows = 1000
	body := corpusPage(b, rows)
	b.Run("json.Unmarshal", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var pg page[container]
			if err := json.Unmarshal(body, &pg); err != nil || len(pg.Data) != rows {
				b.Fatal(err, len(pg.Data))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
	})
	b.Run("streamed", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			n := 0
			if _, _, err := decodePage(bytes.NewReader(body), maxPageBytes, func(container) { n++ }); err != nil || n != rows {
				b.Fatal(err, n)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
	})
}
