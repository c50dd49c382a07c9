/** Entry point of the bundle: connect to the core, then render. Styles come from index.html. */
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { toErrorInfo } from '../shared/errors.js'
import { AppContext, createAppContext } from './app-context.js'
import { App } from './App.js'
import { connectBackend } from './connect.js'
import { ErrorMessage } from './components/ErrorMessage.js'

const container = document.getElementById('root')
if (!container) throw new Error('index.html has no #root element')
const root = createRoot(container)

connectBackend(window).then(
  (backend) => {
    const { value } = createAppContext(backend)
    root.render(
      <StrictMode>
        <AppContext.Provider value={value}>
          <App />
        </AppContext.Provider>
      </StrictMode>,
    )
  },
  (err: unknown) => {
    root.render(
      <main className="content standalone">
        <h1 className="brand">Swarmdrop</h1>
        <ErrorMessage error={toErrorInfo(err)} title="Cannot reach Swarmdrop" />
      </main>,
    )
  },
)
