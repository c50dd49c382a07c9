import { useMemo, useState } from 'react'
import type { PreviewEntry } from '../../shared/contract.js'
import { formatBytes } from '../../shared/format.js'

interface Folder {
  name: string
  path: string
  size: number
  count: number
  folders: Map<string, Folder>
  files: PreviewEntry[]
}

/** Beyond this many entries per folder the list is cut short: a release can hold thousands of files. */
const SHOWN_PER_FOLDER = 200

function buildTree(files: PreviewEntry[]): Folder {
  const root: Folder = { name: '', path: '', size: 0, count: 0, folders: new Map(), files: [] }
  for (const file of files) {
    const parts = file.path.split('/')
    let folder = root
    folder.size += file.length
    folder.count++
    for (const part of parts.slice(0, -1)) {
      let child = folder.folders.get(part)
      if (!child) {
        child = { name: part, path: folder.path ? `${folder.path}/${part}` : part, size: 0, count: 0, folders: new Map(), files: [] }
        folder.folders.set(part, child)
      }
      child.size += file.length
      child.count++
      folder = child
    }
    folder.files.push(file)
  }
  return root
}

export function FileTree({ files }: { files: PreviewEntry[] }) {
  const root = useMemo(() => buildTree(files), [files])
  return (
    <ul className="file-tree" role="tree" aria-label="Files in this release">
      <FolderContents folder={root} />
    </ul>
  )
}

function FolderContents({ folder }: { folder: Folder }) {
  const folders = [...folder.folders.values()].sort((a, b) => a.name.localeCompare(b.name))
  const files = [...folder.files].sort((a, b) => a.path.localeCompare(b.path))
  const entries = folders.length + files.length
  const shownFolders = folders.slice(0, SHOWN_PER_FOLDER)
  const shownFiles = files.slice(0, Math.max(0, SHOWN_PER_FOLDER - shownFolders.length))
  return (
    <>
      {shownFolders.map((f) => (
        <FolderNode key={f.path} folder={f} />
      ))}
      {shownFiles.map((f) => (
        <li key={f.path} role="treeitem" className="tree-file">
          <span className="tree-name">{f.path.split('/').pop()}</span>
          <span className="tree-size">{formatBytes(f.length)}</span>
        </li>
      ))}
      {entries > SHOWN_PER_FOLDER ? <li className="tree-more">…and {entries - SHOWN_PER_FOLDER} more</li> : null}
    </>
  )
}

function FolderNode({ folder }: { folder: Folder }) {
  const [open, setOpen] = useState(folder.path.split('/').length === 1)
  return (
    <li role="treeitem" aria-expanded={open} className="tree-folder">
      <button type="button" className="tree-toggle" onClick={() => setOpen(!open)}>
        <span aria-hidden="true">{open ? '▾' : '▸'}</span>
        <span className="tree-name">{`${folder.name}/`}</span>
        <span className="tree-size">{`${folder.count} ${folder.count === 1 ? 'file' : 'files'} · ${formatBytes(folder.size)}`}</span>
      </button>
      {open ? (
        <ul role="group">
          <FolderContents folder={folder} />
        </ul>
      ) : null}
    </li>
  )
}
