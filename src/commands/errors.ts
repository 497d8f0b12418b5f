/**
 * The one error a command reports to its user: a message, printed once to stderr by the entry
 * point, with exit code 1 (`silent` when the command already printed the details).
 */
import * as Data from "effect/Data"

export class CliFailure extends Data.TaggedError("CliFailure")<{
  readonly message: string
  readonly silent?: boolean
}> {}
