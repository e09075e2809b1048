module obsgen.local/tools/gocheck

go 1.26
