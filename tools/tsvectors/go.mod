module obsgen.local/tsvectors

go 1.25
