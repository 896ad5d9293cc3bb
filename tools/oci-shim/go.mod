module modelcanary.dev/oci-shim

go 1.26
