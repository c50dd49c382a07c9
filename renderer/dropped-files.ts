/**
 * What the user dropped or picked, as files with their path inside the drop. Folders are walked
 * here because a browser only hands over their entries; Electron also gets the top-level items,
 * whose real paths the core can scan itself (keeping empty folders).
 */

export interface DroppedFile {
  file: File
  /** Path inside the drop with '/' separators, starting with the top-level item's name. */
  relativePath: string
}

export interface DroppedItems {
  /** The items as dropped (files or folders), when the browser reports them. */
  top: File[]
  files: DroppedFile[]
}

/** Reads a drop. Must be called synchronously inside the drop handler: DataTransfer empties afterwards. */
export function readDataTransfer(dt: DataTransfer): Promise<DroppedItems> {
  const top = Array.from(dt.files)
  const pending: Promise<DroppedFile[]>[] = []
  for (const item of Array.from(dt.items)) {
    if (item.kind !== 'file') continue
    const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null
    if (entry) {
      pending.push(walkEntry(entry, entry.name))
    } else {
      const file = item.getAsFile()
      if (file) pending.push(Promise.resolve([{ file, relativePath: file.webkitRelativePath || file.name }]))
    }
  }
  // A DataTransfer without items (some synthetic ones) still lists its files.
  if (pending.length === 0) pending.push(Promise.resolve(top.map((file) => ({ file, relativePath: file.name }))))
  return Promise.all(pending).then((lists) => ({ top, files: lists.flat() }))
}

/** Files from an <input type=file>, with or without webkitdirectory. */
export function readFileList(list: FileList | File[]): DroppedItems {
  const files = Array.from(list).map((file) => ({ file, relativePath: file.webkitRelativePath || file.name }))
  return { top: [], files }
}

async function walkEntry(entry: FileSystemEntry, relativePath: string): Promise<DroppedFile[]> {
  if (isFileEntry(entry)) {
    const file = await new Promise<File>((resolve, reject) => entry.file(resolve, reject))
    return [{ file, relativePath }]
  }
  if (!isDirectoryEntry(entry)) return []
  const children = await readAllEntries(entry.createReader())
  const nested = await Promise.all(children.map((child) => walkEntry(child, `${relativePath}/${child.name}`)))
  return nested.flat()
}

/** readEntries returns at most ~100 entries per call; keep reading until it returns none. */
async function readAllEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  const all: FileSystemEntry[] = []
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject))
    if (batch.length === 0) return all
    all.push(...batch)
  }
}

function isFileEntry(entry: FileSystemEntry): entry is FileSystemFileEntry {
  return entry.isFile
}

function isDirectoryEntry(entry: FileSystemEntry): entry is FileSystemDirectoryEntry {
  return entry.isDirectory
}

/** The top-level names of a drop: one name means "publish that item", several mean "publish the batch". */
export function topLevelNames(files: DroppedFile[]): string[] {
  return [...new Set(files.map((f) => f.relativePath.split('/')[0] ?? f.relativePath))]
}

export function totalBytes(files: DroppedFile[]): number {
  return files.reduce((sum, f) => sum + f.file.size, 0)
}
