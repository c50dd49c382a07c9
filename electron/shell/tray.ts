/**
 * Renders the tray model (electron/tray-state.ts) with Electron's Tray and Menu. The model is
 * recomputed from each snapshot; the native menu is rebuilt only when it actually changed, since
 * some Linux status areas flicker or close an open menu on every setContextMenu.
 */
import path from 'node:path'
import { Menu, nativeImage, Tray, type MenuItemConstructorOptions, type NativeImage } from 'electron'
import type { Snapshot } from '../../shared/contract.js'
import { startingTrayModel, trayIconFileName, trayModel, type TrayAction, type TrayIconState, type TrayModel } from './tray-state.js'

export class AppTray {
  private readonly tray: Tray
  private readonly icons = new Map<TrayIconState, NativeImage>()
  private shown: { icon: TrayIconState; tooltip: string; menuKey: string } | null = null

  constructor(
    private readonly assetsDir: string,
    private readonly onAction: (action: TrayAction) => void,
  ) {
    const model = startingTrayModel()
    this.tray = new Tray(this.icon(model.icon))
    // Linux and Windows users expect a left click on the icon to bring the window back.
    this.tray.on('click', () => this.onAction({ kind: 'open' }))
    this.render(model)
  }

  update(snapshot: Snapshot): void {
    this.render(trayModel(snapshot))
  }

  destroy(): void {
    this.tray.destroy()
  }

  private render(model: TrayModel): void {
    const menuKey = JSON.stringify(model.menu)
    if (this.shown?.icon !== model.icon) this.tray.setImage(this.icon(model.icon))
    if (this.shown?.tooltip !== model.tooltip) this.tray.setToolTip(model.tooltip)
    if (this.shown?.menuKey !== menuKey) this.tray.setContextMenu(Menu.buildFromTemplate(this.menuTemplate(model)))
    this.shown = { icon: model.icon, tooltip: model.tooltip, menuKey }
  }

  private menuTemplate(model: TrayModel): MenuItemConstructorOptions[] {
    return model.menu.map((item) =>
      item.type === 'separator'
        ? { type: 'separator' }
        : { id: item.id, label: item.label, enabled: item.enabled, click: () => this.onAction(item.action) },
    )
  }

  private icon(state: TrayIconState): NativeImage {
    let image = this.icons.get(state)
    if (!image) {
      // createFromPath picks up the @2x sibling for HiDPI screens by itself.
      image = nativeImage.createFromPath(path.join(this.assetsDir, trayIconFileName(state, process.platform)))
      if (process.platform === 'darwin') image.setTemplateImage(true)
      this.icons.set(state, image)
    }
    return image
  }
}
