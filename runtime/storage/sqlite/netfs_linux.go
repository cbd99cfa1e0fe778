package sqlite

import "syscall"

// networkFilesystems names the Linux filesystem types (statfs f_type) on
// which SQLite's WAL mode cannot be trusted: its shared-memory index and
// locks work only between processes of one host on a local filesystem.
var networkFilesystems = map[uint32]string{
	0x6969:     "nfs",
	0x517b:     "smb",
	0xff534d42: "cifs",
	0xfe534d42: "smb2",
	0x5346414f: "afs",
	0x73757245: "coda",
	0x564c:     "ncp",
	0x01021997: "9p",
	0x00c36400: "ceph",
	0x0bd00bd0: "lustre",
	0x47504653: "gpfs",
}

// networkFilesystem returns the name of the network filesystem dir is on,
// or "" when it is on a local one (or the type cannot be read).
func networkFilesystem(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "" // the open that follows reports a missing directory
	}
	return networkFilesystems[uint32(st.Type)] // the magic numbers are 32 bits
}
