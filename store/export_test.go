package store

import "database/sql"

// SQL is the read pool, for the store's tests to look at rows directly.
// Outside store, every query is a function of store's.
func (db *DB) SQL() *sql.DB { return db.read }
