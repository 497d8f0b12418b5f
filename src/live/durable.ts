/**
 * Writes that survive a crash: the data is on disk (fsync) before the call returns. State
 * files are 0600 in 0700 folders.
 */
import * as fs from "node:fs"
import { join } from "node:path"

/** opens `path` with `flags` ("a" to append, "w" to replace), writes `text`, fsyncs, closes */
export const writeDurably = (path: string, text: string, flags: "a" | "w"): void => {
  const fd = fs.openSync(path, flags, 0o600)
  try {
    fs.writeSync(fd, text)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

/** replaces `dir/name` all at once: readers see the old file or the new one, never half */
export const writeAtomically = (dir: string, name: string, text: string): void => {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  const tmp = join(dir, `.${name}.${process.pid}.tmp`)
  writeDurably(tmp, text, "w")
  fs.renameSync(tmp, join(dir, name))
}
