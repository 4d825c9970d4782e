package mesh

import "testing"

// TestCheckNodeName checks the protocol's node name rule: charset on
// each side of one '@' and the 255-byte cap.
func TestCheckNodeName(t *testing.T) {
	long := make([]byte, 250)
	for i := range long {
		long[i] = 'n'
	}
	tests := []struct {
		name string
		ok   bool
	}{
		{"hello@10.42.3.7", true},
		{"my_app-2@node-7.example", true},
		{string(long) + "@1.2", true},
		{string(long) + "@1.2.3.4", false},
		{"hello", false},
		{"@10.42.3.7", false},
		{"hello@", false},
		{"a@b@c", false},
		{"", false},
		{"a b@h", false},
		{"a@h:1", false},
		{"a\u00e9@h", false},
	}
	for _, tt := range tests {
		if err := CheckNodeName(tt.name); (err == nil) != tt.ok {
			t.Errorf("CheckNodeName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}
