/** One line of `npm run bench`: ours against a real reference, measured in the same run. */
export interface BenchResult {
  name: string
  ours: number
  reference: number
  /** ours / reference for times (lower is better), or as stated in `unit`. */
  ratio: number
  unit: string
  note?: string
}
