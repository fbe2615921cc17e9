module github.com/krbap/krbap/bindings/go

go 1.22
