/**
 * Native notifications for the events a publisher wants to hear about while the window is in the
 * tray. What to say lives in electron/notification-rules.ts; this module only shows it.
 */
import { Notification } from 'electron'
import type { CoreApi } from '../../shared/contract.js'
import { CompletionBatcher, publishDoneNotification, publishErrorNotification, rolloutCompleteNotification, type NotificationContent } from './notification-rules.js'

export function startNotifications(core: CoreApi, iconPath: string, onClick: () => void): () => void {
  // Held until closed: a notification collected by the GC loses its click handler.
  const live = new Set<Notification>()
  const show = (content: NotificationContent): void => {
    // Some Linux sessions have no notification daemon; the tray and window still tell the story.
    if (!Notification.isSupported()) return
    const notification = new Notification({
      title: content.title,
      body: content.body,
      icon: iconPath,
      urgency: content.urgent ? 'critical' : 'normal',
      silent: !content.urgent,
    })
    notification.on('click', onClick)
    notification.on('close', () => live.delete(notification))
    live.add(notification)
    notification.show()
  }
  const batcher = new CompletionBatcher(show)
  const unsubscribes = [
    core.on('publish.done', (payload) => show(publishDoneNotification(payload))),
    core.on('publish.error', (payload) => {
      const content = publishErrorNotification(payload)
      if (content) show(content)
    }),
    core.on('release.completedByServer', (payload) => batcher.add(payload)),
    core.on('release.rolloutComplete', (payload) => show(rolloutCompleteNotification(payload))),
  ]
  return () => {
    for (const unsubscribe of unsubscribes) unsubscribe()
    batcher.dispose()
    live.clear()
  }
}
