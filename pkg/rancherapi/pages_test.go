package rancherapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/drover-mesh/drover/internal/jsonskim"
)

// decodeAll streams a page into a slice.
func decodeAll[T any](body string, limit int64) ([]T, string, bool, error) {
	var rows []T
	next, partial, err := decodePage(strings.NewReader(body), limit, func(r T) { rows = append(rows, r) })
	return rows, next, partial, err
}

func TestDecodePageReadsRowsAndPagination(t *testing.T) {
	tests := []struct {
		name, body  string
		wantIDs     []string
		wantNext    string
		wantPartial bool
	}{
		{"rows and a next link", `{"type":"collection","data":[{"id":"1i1","links":{"self":"x"}},{"id":"1i2"}],"pagination":{"next":"http://r/next","partial":true,"limit":2}}`,
			[]string{"1i1", "1i2"}, "http://r/next", true},
		{"the last page", `{"data":[{"id":"1i3"}],"pagination":{"next":null,"partial":false}}`, []string{"1i3"}, "", false},
		{"no pagination", `{"data":[]}`, nil, "", false},
		{"null pagination", `{"data":[],"pagination":null}`, nil, "", false},
		{"null data: no rows, as encoding/json reads it", `{"data":null}`, nil, "", false},
		{"members after data and in any case", `{"Data":[{"id":"a"}],"sortLinks":{"id":"x"},"PAGINATION":{"next":"n"},"filters":{"a":[1,{"b":null}]}}`,
			[]string{"a"}, "n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, next, partial, err := decodeAll[container](tt.body, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range rows {
				ids = append(ids, r.ID)
			}
			if !reflect.DeepEqual(ids, tt.wantIDs) || next != tt.wantNext || partial != tt.wantPartial {
				t.Errorf("got %v, next %q, partial %v; want %v, %q, %v", ids, next, partial, tt.wantIDs, tt.wantNext, tt.wantPartial)
			}
		})
	}
}

func TestDecodePageRefusesWhatIsNoCollection(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"no data member", `{"type":"collection","pagination":{}}`, "no data array"},
		{"an error object with status 200", `{"type":"error","status":500,"code":"ServerError"}`, "no data array"},
		{"two data members", `{"data":[{"id":"a"}],"data":[]}`, "two data members"},
		{"data is an object", `{"data":{"id":"a"}}`, "want an array"},
		{"not an object", `[{"id":"a"}]`, "want an object"},
		{"null", `null`, "want an object"},
		{"empty", ``, "unexpected end"},
		{"cut short", `{"data":[{"id":"a"},{"id":"b"`, "unexpected end"},
		{"trailing garbage", `{"data":[]} {"data":[]}`, "after top-level value"},
		{"a row of another type", `{"data":["1i1"]}`, "row 0"},
		{"a field of another type", `{"data":[{"id":"a"},{"id":"b","createIndex":"7"}]}`, "row 1"},
		{"invalid JSON in a skipped field", `{"data":[{"id":"a","links":{"self":"x",}}]}`, "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := decodeAll[container](tt.body, 1<<20)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func TestDecodePageRefusesAPageOverItsLimit(t *testing.T) {
	body := `{"data":[{"id":"1i1","description":"` + strings.Repeat("d", 2000) + `"}]}`
	_, _, _, err := decodeAll[container](body, 1000)
	if _, ok := errors.AsType[*jsonskim.LimitError](err); !ok {
		t.Fatalf("err = %v, want a LimitError", err)
	}
	if !strings.Contains(err.Error(), "over the limit") {
		t.Errorf("err = %v, want it to say the page is over the limit", err)
	}
}

// TestDecodePageAgreesWithJSONUnmarshalOnCattleCollections streams the
// corpus's real collections and wants exactly what go-rancher's
// json.Unmarshal of the whole page gave.
func TestDecodePageAgreesWithJSONUnmarshalOnCattleCollections(t *testing.T) {
	agree[container](t, "v1-1.1-containers-collection.json")
	agree[service](t, "v1-1.1-services-collection.json")
	agree[service](t, "v2beta-1.6-services-collection.json")
	agree[service](t, "v2beta-1.6-services-activating-error.json")
	agree[stack](t, "v1-1.1-environments-collection.json")
}

// agree decodes a corpus collection of T both ways and compares the rows.
func agree[T any](t *testing.T, file string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(corpusDir, file))
	if err != nil {
		t.Fatal(err)
	}
	var pg page[T]
	if err := json.Unmarshal(raw, &pg); err != nil {
		t.Fatal(err)
	}
	rows, _, _, err := decodeAll[T](string(raw), maxPageBytes)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pg.Data, rows) {
		t.Errorf("%s:\njson.Unmarshal: %+v\nstreamed:       %+v", file, pg.Data, rows)
	}
}

func TestListNamesThePageThatFailed(t *testing.T) {
	f := newFakeRancher(t)
	f.seed(5)
	c := f.newClient(t, func(o *Options) { o.PageSize = 2 })
	f.setFail(func(r *http.Request) int {
		if strings.HasSuffix(r.URL.Path, "/containers") && r.URL.Query().Get("marker") == "m4" {
			return 500
		}
		return 0
	})
	_, err := list[container](context.Background(), c, &pass{}, "listing containers", schemaContainer, c.listFilters(nil))
	if err == nil || !IsTransient(err) || !strings.Contains(err.Error(), "page 3") {
		t.Fatalf("err = %v, want a transient error naming page 3", err)
	}
}

func TestListRefusesAPartialPageWithoutANextLink(t *testing.T) {
	rows, next, partial, err := decodeAll[container](`{"data":[{"id":"a"}],"pagination":{"partial":true}}`, 1<<20)
	if err != nil || len(rows) != 1 || next != "" || !partial {
		t.Fatalf("decodePage: %v %q %v %v", rows, next, partial, err)
	}
	f := newFakeRancher(t)
	f.seed(3)
	c := f.newClient(t, func(o *Options) { o.PageSize = 2 })
	f.dropNextLinks()
	_, err = list[container](context.Background(), c, &pass{}, "listing containers", schemaContainer, c.listFilters(nil))
	if err == nil || !IsTransient(err) || !strings.Contains(err.Error(), "partial but gave no next link") {
		t.Fatalf("err = %v, want a transient partial-answer error", err)
	}
}
