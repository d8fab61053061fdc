-- The engine a task last failed on transiently; its retry is offered to other engines first.
ALTER TABLE tasks ADD COLUMN failed_on TEXT;
