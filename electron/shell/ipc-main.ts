/**
 * Electron's own ipcMain, handed to the contract's IPC transport (ipc-transport.ts). This and the
 * preload are the only modules that touch raw IPC (lint enforces it), so every channel the
 * window can reach is a contract command with its sender checked.
 */
import { ipcMain } from 'electron'
import { registerIpcTransport, type IpcTransportOptions } from './ipc-transport.js'

export function registerElectronIpc(options: Omit<IpcTransportOptions, 'ipcMain'>): () => void {
  return registerIpcTransport({ ...options, ipcMain })
}
